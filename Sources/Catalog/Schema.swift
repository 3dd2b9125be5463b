import StageContract

/// The catalog's schema as a list of migrations. `PRAGMA user_version` records how many have run; opening a
/// catalog runs the rest in one transaction. Append new migrations; never edit a released one.
enum Schema {
    static let migrations: [String] = [
        // 1: items
        """
        CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            source_kind TEXT NOT NULL CHECK (source_kind IN ('url', 'file')),
            label TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ok', 'failed', 'excluded')),
            reason TEXT,
            message TEXT,
            http_status INTEGER,
            final_url TEXT,
            content_type TEXT,
            bytes INTEGER,
            sha256 TEXT,
            path TEXT,
            format TEXT,
            width INTEGER,
            height INTEGER,
            phash INTEGER,
            dhash INTEGER,
            flags TEXT NOT NULL DEFAULT '',
            cluster INTEGER,
            split TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            elapsed_ms REAL,
            updated_at REAL NOT NULL,
            UNIQUE (source, label)
        );
        CREATE INDEX items_by_status ON items (status, label);
        CREATE INDEX items_by_sha256 ON items (sha256);
        """,
        // 2: the as-received file when `path` is a resized copy made while fetching
        """
        ALTER TABLE items ADD COLUMN original_path TEXT;
        """,
        // 3: stages walk one status in id order (the fetch queue is "pending, id > last"): index exactly that,
        // so each chunk is a range read rather than a sort of every pending row; index only known hashes.
        """
        DROP INDEX items_by_status;
        CREATE INDEX items_by_status_id ON items (status, id);
        DROP INDEX items_by_sha256;
        CREATE INDEX items_by_sha256 ON items (sha256) WHERE sha256 IS NOT NULL;
        """,
        // 4: what curate measures (kept between runs, so a re-run decodes only new files) and decides
        """
        ALTER TABLE items ADD COLUMN pixel_sha256 TEXT;
        ALTER TABLE items ADD COLUMN detail_hash TEXT;
        ALTER TABLE items ADD COLUMN brightness REAL;
        ALTER TABLE items ADD COLUMN sharpness REAL;
        ALTER TABLE items ADD COLUMN entropy REAL;
        ALTER TABLE items ADD COLUMN colorfulness REAL;
        ALTER TABLE items ADD COLUMN duplicate_of INTEGER;
        ALTER TABLE items ADD COLUMN fold INTEGER;
        """,
        // 5: `curate --label-issues`: the label confident learning suggests, and the given label's probability
        """
        ALTER TABLE items ADD COLUMN suggested_label TEXT;
        ALTER TABLE items ADD COLUMN label_score REAL;
        """,
        // 6: `curate --nsfw`: open_nsfw's probability
        """
        ALTER TABLE items ADD COLUMN nsfw_score REAL;
        """,
    ]

    static var currentVersion: Int { migrations.count }

    /// Statements built once: the SQL text is also the key of the prepared-statement cache.
    static let selectItem = "SELECT id, \(itemColumns.joined(separator: ", ")) FROM items"
    static let insertItemIfAbsent = "INSERT OR IGNORE INTO items (\(itemColumns.joined(separator: ", "))) VALUES (\(itemColumns.map { _ in "?" }.joined(separator: ", ")))"
    static let upsertItem = """
        INSERT INTO items (\(itemColumns.joined(separator: ", "))) VALUES (\(itemColumns.map { _ in "?" }.joined(separator: ", ")))
        ON CONFLICT (source, label) DO UPDATE SET \(itemColumns.dropFirst(3).map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
        RETURNING id
        """

    /// Item columns in the order `CatalogItem` is read and written.
    static let itemColumns = ItemColumn.allCases.map(\.name)
}
