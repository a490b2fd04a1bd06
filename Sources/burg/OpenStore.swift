import BurgStore

extension DataDirOptions {
    /// Opens the data directory's database with every capability's migrations. Commands that only read
    /// or maintain (`db`, `records list`, `bench history`) never create one; commands that write
    /// (`collections create`, `import`, `bench run`) pass `create: true`.
    func openStore(create: Bool = false) throws -> Store {
        var configuration = StoreConfiguration(dataDirectory: filePath)
        configuration.createIfMissing = create
        return try Store(configuration, migrations: BurgSchema.migrations)
    }
}
