-- Sign in with the right password (equal bcrypt cost on both servers).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"identity":"bench@example.org","password":"bench password 123"}'
