/// How a ``FileLock`` is held: many shared holders may coexist; an exclusive holder excludes everyone.
public enum LockMode: String, Sendable, Equatable, CustomStringConvertible {
    case shared
    case exclusive

    public var description: String { rawValue }
}
