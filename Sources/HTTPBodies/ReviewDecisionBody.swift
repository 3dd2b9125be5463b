import Foundation

/// A decision as the review app's page sends it (`POST /api/decisions`), read and bounded before the catalog sees it:
///
///     {"action": "keep" | "exclude" | "label", "label": "cat", "note": "why",
///      "items": [{"id": 12, "revision": 3}, ...]}            these items, as the page saw them
///  or "filter": {"label": "cat", "flag": "blurry", ...}, "expected": 1234   every item the filter matched
///
/// Field values stay strings here; the review app checks labels and filter values against the catalog's types.
public struct ReviewDecisionBody: Sendable, Equatable {
    public enum Action: String, Sendable, CaseIterable { case keep, exclude, label }

    public let action: Action
    public let label: String?
    public let note: String?
    /// (id, revision) pairs, or nil when the decision is on a filter.
    public let items: [Item]?
    public let filter: [String: String]?
    public let expected: Int?

    public struct Item: Sendable, Equatable {
        public let id: Int64
        public let revision: Int64
    }

    public static let maxItems = 10_000
    public static let maxNoteCharacters = 500
    /// The filter's fields (the grid's), each a short string.
    public static let filterFields: Set<String> = ["label", "status", "reason", "flag", "split", "cluster", "decided"]

    public static func parse(_ body: [UInt8]) throws(BodyError) -> ReviewDecisionBody {
        guard !body.isEmpty else { throw BodyError("the body is empty; send a JSON object with action and items (or filter)") }
        let raw: Raw
        do {
            raw = try JSONDecoder().decode(Raw.self, from: Data(body))
        } catch let error as BodyError {
            throw error
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw BodyError("\(path(context.codingPath)) has the wrong type; send action, label and note as strings, items as [{\"id\": N, \"revision\": N}], filter as an object of strings, expected as a whole number")
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw BodyError("\(path(context.codingPath)): \(context.debugDescription)")
        } catch {
            throw BodyError("the body is not a JSON object with action and items (or filter)")
        }
        guard let name = raw.action, let action = Action(rawValue: name) else {
            throw BodyError("action must be one of \(Action.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        switch (action, raw.label) {
        case (.label, nil): throw BodyError("label: the label action needs the new label")
        case (.keep, .some), (.exclude, .some): throw BodyError("label goes only with the label action")
        default: break
        }
        if let label = raw.label, label.count > 200 { throw BodyError("label is longer than 200 characters") }
        if let note = raw.note, note.count > maxNoteCharacters { throw BodyError("note is longer than \(maxNoteCharacters) characters") }
        guard (raw.items == nil) != (raw.filter == nil) else { throw BodyError("send either items or filter (one of the two)") }
        if let items = raw.items {
            guard !items.isEmpty, items.count <= maxItems else { throw BodyError("items: send 1 to \(maxItems) items (or decide on a filter)") }
            if let i = items.firstIndex(where: { $0.id <= 0 || $0.revision < 0 }) {
                throw BodyError("items[\(i)] must have a positive id and the revision the page showed")
            }
            guard raw.expected == nil else { throw BodyError("expected goes only with filter") }
        }
        if let filter = raw.filter {
            if let field = filter.keys.sorted().first(where: { !filterFields.contains($0) }) {
                throw BodyError("filter: unknown field \"\(field.prefix(40))\"; the fields are \(filterFields.sorted().joined(separator: ", "))")
            }
            if let field = filter.keys.sorted().first(where: { filter[$0]!.count > 200 }) { throw BodyError("filter.\(field) is longer than 200 characters") }
            guard let expected = raw.expected, expected >= 0 else {
                throw BodyError("expected: with a filter, send the count of items it matched (a whole number)")
            }
        }
        return ReviewDecisionBody(action: action, label: raw.label, note: raw.note?.isEmpty == true ? nil : raw.note, items: raw.items,
                                  filter: raw.filter, expected: raw.expected)
    }

    /// The body as JSON types, any other field refused.
    private struct Raw: Decodable {
        let action: String?
        let label: String?
        let note: String?
        let items: [Item]?
        let filter: [String: String]?
        let expected: Int?

        private enum Field: String, CodingKey, CaseIterable { case action, label, note, items, filter, expected }

        private struct AnyField: CodingKey {
            let stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let all = try decoder.container(keyedBy: AnyField.self)
            if let unknown = all.allKeys.map(\.stringValue).sorted().first(where: { Field(rawValue: $0) == nil }) {
                throw BodyError("unknown field \"\(unknown.prefix(40))\"; the fields are \(Field.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let fields = try decoder.container(keyedBy: Field.self)
            action = try fields.decodeIfPresent(String.self, forKey: .action)
            label = try fields.decodeIfPresent(String.self, forKey: .label)
            note = try fields.decodeIfPresent(String.self, forKey: .note)
            items = try fields.decodeIfPresent([Item].self, forKey: .items)
            filter = try fields.decodeIfPresent([String: String].self, forKey: .filter)
            expected = try fields.decodeIfPresent(Int.self, forKey: .expected)
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "the body" : keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }
}

extension ReviewDecisionBody.Item: Decodable {}
