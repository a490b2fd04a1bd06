// Store's API hands GRDB's `Database` to read and write closures; re-exporting GRDB lets users of
// BurgStore write those closures without depending on GRDB themselves.
@_exported import GRDB
