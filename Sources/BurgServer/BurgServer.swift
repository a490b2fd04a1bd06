// BurgServer: the HTTP API.
