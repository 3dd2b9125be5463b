import Foundation
import StageContract

/// Every item column once, in the order of the table's SQL (`Schema.itemColumns`): reads and writes name them,
/// never their positions.
enum ItemColumn: Int32, CaseIterable {
    case source = 1, sourceKind, label, status, reason, message, httpStatus, finalURL, contentType, bytes, sha256, path,
         format, width, height, phash, dhash, flags, cluster, split, attempts, elapsedMilliseconds, updatedAt, originalPath,
         pixelSHA256, detailHash, brightness, sharpness, entropy, colorfulness, duplicateOf, fold, suggestedLabel, labelScore,
         nsfwScore, offTopicScore, manualStatus, manualLabel, revision

    /// What only the review journal changes (`CatalogTransaction.decide`, `undo`): an upsert leaves these as they are
    /// (and bumps `revision`).
    var isReviewState: Bool { self == .manualStatus || self == .manualLabel || self == .revision }

    /// The SQL name.
    var name: String {
        switch self {
        case .sourceKind: "source_kind"
        case .httpStatus: "http_status"
        case .finalURL: "final_url"
        case .contentType: "content_type"
        case .elapsedMilliseconds: "elapsed_ms"
        case .updatedAt: "updated_at"
        case .originalPath: "original_path"
        case .pixelSHA256: "pixel_sha256"
        case .detailHash: "detail_hash"
        case .duplicateOf: "duplicate_of"
        case .suggestedLabel: "suggested_label"
        case .labelScore: "label_score"
        case .nsfwScore: "nsfw_score"
        case .offTopicScore: "off_topic_score"
        case .manualStatus: "manual_status"
        case .manualLabel: "manual_label"
        default: "\(self)".lowercased()
        }
    }
}

/// A selected row (`id` first, then `ItemColumn`s) read by column name.
private extension Statement {
    func int(_ column: ItemColumn) -> Int64? { int(column.rawValue) }
    func double(_ column: ItemColumn) -> Double? { double(column.rawValue) }
    func text(_ column: ItemColumn) -> String? { text(column.rawValue) }
}

extension CatalogItem {
    /// Values in `ItemColumn` order.
    var values: [SQLiteValue] {
        var values = [SQLiteValue](repeating: .null, count: ItemColumn.allCases.count)
        func set(_ column: ItemColumn, _ value: SQLiteValue) { values[Int(column.rawValue) - 1] = value }
        set(.source, .text(source)); set(.sourceKind, .text(sourceKind.rawValue)); set(.label, .text(label.name))
        set(.status, .text(status.rawValue)); set(.reason, SQLiteValue(reason?.code)); set(.message, SQLiteValue(message))
        set(.httpStatus, SQLiteValue(httpStatus)); set(.finalURL, SQLiteValue(finalURL)); set(.contentType, SQLiteValue(contentType))
        set(.bytes, SQLiteValue(bytes)); set(.sha256, SQLiteValue(sha256)); set(.path, SQLiteValue(path)); set(.format, SQLiteValue(format))
        set(.width, SQLiteValue(width)); set(.height, SQLiteValue(height))
        set(.phash, SQLiteValue(phash.map { Int64(bitPattern: $0) })); set(.dhash, SQLiteValue(dhash.map { Int64(bitPattern: $0) }))
        set(.flags, .text(flags.map(\.rawValue).joined(separator: ","))); set(.cluster, SQLiteValue(cluster))
        set(.split, SQLiteValue(split?.rawValue)); set(.attempts, .integer(Int64(attempts)))
        set(.elapsedMilliseconds, SQLiteValue(elapsedMilliseconds))
        set(.updatedAt, .real(updatedAt == 0 ? Date().timeIntervalSince1970 : updatedAt))
        set(.originalPath, SQLiteValue(originalPath)); set(.pixelSHA256, SQLiteValue(pixelSHA256)); set(.detailHash, SQLiteValue(detailHash))
        set(.brightness, SQLiteValue(brightness)); set(.sharpness, SQLiteValue(sharpness)); set(.entropy, SQLiteValue(entropy))
        set(.colorfulness, SQLiteValue(colorfulness)); set(.duplicateOf, SQLiteValue(duplicateOf)); set(.fold, SQLiteValue(fold))
        set(.suggestedLabel, SQLiteValue(suggestedLabel)); set(.labelScore, SQLiteValue(labelScore)); set(.nsfwScore, SQLiteValue(nsfwScore))
        set(.offTopicScore, SQLiteValue(offTopicScore)); set(.manualStatus, SQLiteValue(manualStatus?.rawValue))
        set(.manualLabel, .integer(manualLabel ? 1 : 0)); set(.revision, .integer(revision))
        return values
    }

    /// Reads a row selected as `id` followed by the `ItemColumn`s.
    init(row: Statement, path: String) throws(CatalogError) {
        let rowID = row.int(0) ?? 0
        guard let kind = SourceKind(rawValue: row.text(.sourceKind) ?? ""), let status = ItemStatus(rawValue: row.text(.status) ?? "")
        else { throw CatalogError(path: path, detail: "row \(rowID) has an unknown kind or status") }
        let label: Label
        do throws(LabelError) { label = try Label(row.text(.label) ?? "") } catch {
            throw CatalogError(path: path, detail: "row \(rowID): \(error)")
        }
        func unknown(_ what: String, _ value: String) -> CatalogError {
            CatalogError(path: path, detail: "row \(rowID) has an unknown \(what) \(value), written by a newer imgcls; upgrade imgcls")
        }
        self.init(source: row.text(.source) ?? "", sourceKind: kind, label: label)
        id = row.int(0)
        self.status = status
        if let code = row.text(.reason) {
            guard let known = Reason(code: code) else { throw unknown("reason", code) }
            reason = known
        }
        (message, httpStatus, finalURL, contentType) = (row.text(.message), row.int(.httpStatus).map(Int.init), row.text(.finalURL), row.text(.contentType))
        (bytes, sha256, self.path, format) = (row.int(.bytes).map(Int.init), row.text(.sha256), row.text(.path), row.text(.format))
        (width, height) = (row.int(.width).map(Int.init), row.int(.height).map(Int.init))
        (phash, dhash) = (row.int(.phash).map { UInt64(bitPattern: $0) }, row.int(.dhash).map { UInt64(bitPattern: $0) })
        for name in (row.text(.flags) ?? "").split(separator: ",") {
            guard let flag = QualityFlag(rawValue: String(name)) else { throw unknown("flag", String(name)) }
            flags.append(flag)
        }
        cluster = row.int(.cluster)
        if let name = row.text(.split) {
            guard let known = Split(rawValue: name) else { throw unknown("split", name) }
            split = known
        }
        (attempts, elapsedMilliseconds, updatedAt) = (Int(row.int(.attempts) ?? 0), row.double(.elapsedMilliseconds), row.double(.updatedAt) ?? 0)
        (originalPath, pixelSHA256, detailHash) = (row.text(.originalPath), row.text(.pixelSHA256), row.text(.detailHash))
        (brightness, sharpness, entropy, colorfulness) = (row.double(.brightness), row.double(.sharpness), row.double(.entropy), row.double(.colorfulness))
        (duplicateOf, fold) = (row.int(.duplicateOf), row.int(.fold).map(Int.init))
        (suggestedLabel, labelScore, nsfwScore) = (row.text(.suggestedLabel), row.double(.labelScore), row.double(.nsfwScore))
        (offTopicScore, manualLabel, revision) = (row.double(.offTopicScore), row.int(.manualLabel) == 1, row.int(.revision) ?? 0)
        if let manual = row.text(.manualStatus) {
            guard let known = ItemStatus(rawValue: manual) else { throw unknown("manual status", manual) }
            manualStatus = known
        }
    }
}
