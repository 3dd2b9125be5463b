internal import CSQLite
import StageContract

/// A thin wrapper over one SQLite connection: statements are prepared once and cached by their SQL text.
/// Not thread-safe on its own; `Catalog` serialises access.
final class SQLiteConnection {
    let path: String
    private var handle: OpaquePointer?
    private var cache: [String: Statement] = [:]

    /// Once, before any connection: no memory statistics (a global mutex on every allocation, 5% of reading a
    /// manifest of a million URLs into the catalog).
    private static let configured: Void = { _ = imgcls_sqlite_disable_memory_statistics() }()

    init(path: String, readOnly: Bool) throws(CatalogError) {
        self.path = path
        SQLiteConnection.configured
        let flags = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        let status = sqlite3_open_v2(path, &handle, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard status == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(status))
            sqlite3_close(handle)
            throw CatalogError(path: path, detail: "cannot open the catalog: \(message)")
        }
        // Another process (a parallel shard, `imgcls status`) may hold the lock for a moment: wait for it.
        sqlite3_busy_timeout(handle, 10_000)
    }

    deinit {
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    func execute(_ sql: String) throws(CatalogError) {
        var error: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &error) == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(error)
            throw CatalogError(path: path, detail: "\(message) (in: \(sql.prefix(80)))")
        }
    }

    /// A cached prepared statement, reset and with its bindings cleared.
    func statement(_ sql: String) throws(CatalogError) -> Statement {
        if let cached = cache[sql] {
            cached.reset()
            return cached
        }
        var raw: OpaquePointer?
        guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil) == SQLITE_OK, let raw else {
            throw failure("cannot prepare \(sql.prefix(80))")
        }
        let statement = Statement(raw, connection: self)
        cache[sql] = statement
        return statement
    }

    var changes: Int { Int(sqlite3_changes(handle)) }

    func failure(_ context: String) -> CatalogError {
        CatalogError(path: path, detail: "\(context): \(String(cString: sqlite3_errmsg(handle)))")
    }
}

/// A prepared statement. Bind by 1-based index, step, read columns by 0-based index.
final class Statement {
    private let raw: OpaquePointer
    private unowned let connection: SQLiteConnection

    init(_ raw: OpaquePointer, connection: SQLiteConnection) {
        self.raw = raw
        self.connection = connection
    }

    deinit { sqlite3_finalize(raw) }

    func reset() {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
    }

    @discardableResult
    func bind(_ values: [SQLiteValue]) -> Statement {
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            switch value {
            case .null: sqlite3_bind_null(raw, index)
            case .integer(let v): sqlite3_bind_int64(raw, index, v)
            case .real(let v): sqlite3_bind_double(raw, index, v)
            case .text(let v): sqlite3_bind_text(raw, index, v, -1, imgcls_sqlite_transient())
            }
        }
        return self
    }

    /// Advances to the next row; false when done.
    func step() throws(CatalogError) -> Bool {
        switch sqlite3_step(raw) {
        case SQLITE_ROW: return true
        case SQLITE_DONE:
            sqlite3_reset(raw)
            return false
        default:
            let error = connection.failure("cannot run \(String(cString: sqlite3_sql(raw)).prefix(80))")
            sqlite3_reset(raw)
            throw error
        }
    }

    /// Runs a statement that returns no rows.
    func run(_ values: [SQLiteValue] = []) throws(CatalogError) {
        bind(values)
        while try step() {}
    }

    func int(_ column: Int32) -> Int64? {
        sqlite3_column_type(raw, column) == SQLITE_NULL ? nil : sqlite3_column_int64(raw, column)
    }

    func double(_ column: Int32) -> Double? {
        sqlite3_column_type(raw, column) == SQLITE_NULL ? nil : sqlite3_column_double(raw, column)
    }

    func text(_ column: Int32) -> String? {
        guard let chars = sqlite3_column_text(raw, column) else { return nil }
        return String(cString: chars)
    }
}

/// A value bound into a statement.
enum SQLiteValue {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    init(_ value: Int64?) { self = value.map { .integer($0) } ?? .null }
    init(_ value: Double?) { self = value.map { .real($0) } ?? .null }
    init(_ value: String?) { self = value.map { .text($0) } ?? .null }
}
