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
        // 7: the review app (`imgcls review`). A person's decisions: `manual_status` (kept or excluded by hand, which
        // curate re-runs and `curate --reset` honour), `manual_label` (the label was set by hand), `revision` (bumped
        // by every change, so a decision made on a stale view is a conflict), and their journal, one row per item per
        // decision, `batch` grouping one action (one key press, one bulk decision) for undo. Off-topic scores are kept
        // to sort by. Indexes for the review grid's filters and sorts on a catalog of millions (see CatalogBrowse).
        """
        ALTER TABLE items ADD COLUMN off_topic_score REAL;
        ALTER TABLE items ADD COLUMN manual_status TEXT CHECK (manual_status IN ('ok', 'excluded'));
        ALTER TABLE items ADD COLUMN manual_label INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE items ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE decisions (
            id INTEGER PRIMARY KEY,
            batch INTEGER NOT NULL,
            item INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
            action TEXT NOT NULL CHECK (action IN ('keep', 'exclude', 'label')),
            note TEXT,
            at REAL NOT NULL,
            old_status TEXT NOT NULL, old_reason TEXT, old_message TEXT, old_label TEXT NOT NULL, old_flags TEXT NOT NULL,
            old_split TEXT, old_fold INTEGER, old_suggested_label TEXT, old_label_score REAL, old_manual_status TEXT,
            old_manual_label INTEGER NOT NULL,
            new_status TEXT NOT NULL, new_label TEXT NOT NULL, new_revision INTEGER NOT NULL,
            undone_at REAL, undone_revision INTEGER
        );
        CREATE INDEX decisions_by_batch ON decisions (batch);
        CREATE INDEX decisions_by_item ON decisions (item);
        CREATE INDEX decisions_by_time ON decisions (at);
        CREATE INDEX items_by_label_id ON items (label, id);
        CREATE INDEX items_by_reason_id ON items (reason, id) WHERE reason IS NOT NULL;
        CREATE INDEX items_by_split_id ON items (split, id) WHERE split IS NOT NULL;
        CREATE INDEX items_by_cluster ON items (cluster) WHERE cluster IS NOT NULL;
        CREATE INDEX items_by_label_score ON items (label_score, id) WHERE label_score IS NOT NULL;
        CREATE INDEX items_by_off_topic_score ON items (off_topic_score, id) WHERE off_topic_score IS NOT NULL;
        CREATE INDEX items_by_nsfw_score ON items (nsfw_score, id) WHERE nsfw_score IS NOT NULL;
        CREATE INDEX items_by_bytes ON items (bytes, id) WHERE bytes IS NOT NULL;
        CREATE INDEX items_decided ON items (id) WHERE (manual_status IS NOT NULL OR manual_label = 1);
        -- One small partial index per flag: the browse filter's term (CatalogBrowse.flagCondition), written with the
        -- flag's name as a literal, matches it (a bound parameter would not). A new flag needs its own migration.
        CREATE INDEX items_flagged_blurry ON items (id) WHERE instr(',' || flags || ',', ',blurry,') > 0;
        CREATE INDEX items_flagged_dark ON items (id) WHERE instr(',' || flags || ',', ',dark,') > 0;
        CREATE INDEX items_flagged_light ON items (id) WHERE instr(',' || flags || ',', ',light,') > 0;
        CREATE INDEX items_flagged_low_information ON items (id) WHERE instr(',' || flags || ',', ',low_information,') > 0;
        CREATE INDEX items_flagged_grayscale ON items (id) WHERE instr(',' || flags || ',', ',grayscale,') > 0;
        CREATE INDEX items_flagged_odd_aspect ON items (id) WHERE instr(',' || flags || ',', ',odd_aspect,') > 0;
        CREATE INDEX items_flagged_odd_size ON items (id) WHERE instr(',' || flags || ',', ',odd_size,') > 0;
        CREATE INDEX items_flagged_label_issue ON items (id) WHERE instr(',' || flags || ',', ',label_issue,') > 0;
        CREATE INDEX items_flagged_off_topic ON items (id) WHERE instr(',' || flags || ',', ',off_topic,') > 0;
        CREATE INDEX items_flagged_nsfw ON items (id) WHERE instr(',' || flags || ',', ',nsfw,') > 0;
        """,
    ]

    static var currentVersion: Int { migrations.count }

    /// Statements built once: the SQL text is also the key of the prepared-statement cache.
    static let selectItem = "SELECT id, \(itemColumns.joined(separator: ", ")) FROM items"
    static let insertItemIfAbsent = "INSERT OR IGNORE INTO items (\(itemColumns.joined(separator: ", "))) VALUES (\(itemColumns.map { _ in "?" }.joined(separator: ", ")))"
    static let upsertItem = """
        INSERT INTO items (\(itemColumns.joined(separator: ", "))) VALUES (\(itemColumns.map { _ in "?" }.joined(separator: ", ")))
        ON CONFLICT (source, label) DO UPDATE SET \(ItemColumn.allCases.dropFirst(3).filter { !$0.isReviewState }.map { "\($0.name) = excluded.\($0.name)" }.joined(separator: ", ")),
            revision = revision + 1
        RETURNING id
        """

    /// Every column but the source, label and the review app's state, by id and revision (`CatalogTransaction.update`).
    static let updateItem = "UPDATE items SET "
        + ItemColumn.allCases.filter { ![.source, .sourceKind, .label].contains($0) && !$0.isReviewState }.map { "\($0.name) = ?" }.joined(separator: ", ")
        + ", revision = revision + 1 WHERE id = ? AND revision = ?"

    /// Item columns in the order `CatalogItem` is read and written.
    static let itemColumns = ItemColumn.allCases.map(\.name)
}
