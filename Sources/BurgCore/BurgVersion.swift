/// Burg's version, shown by `burg --version` and recorded in backups and lock records.
public enum BurgVersion {
    public static let current = "0.1.0"
}
