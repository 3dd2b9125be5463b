import Foundation
import Imaging

/// The original service's policy, done right: below `minimumConfidence` the answer is `label`. (The Flask app
/// compared `int(probability)`, which is 0 for every probability under 1, so it answered its fallback nearly
/// always.)
public struct FallbackRule: Sendable, Equatable {
    public let minimumConfidence: Float
    public let label: String

    public init(minimumConfidence: Float, label: String) {
        (self.minimumConfidence, self.label) = (minimumConfidence, label)
    }
}

/// One label with its probability.
public struct LabelScore: Sendable, Equatable, Codable {
    public let label: String
    public let index: Int
    public let probability: Float
}

/// What the model says of one image.
public struct Classification: Sendable, Equatable {
    /// The `topK` most probable labels, most probable first (ties: the lower class index first).
    public let top: [LabelScore]
    /// The answer: the most probable label, or the fallback label when the rule fired.
    public let label: String
    /// The probability of the most probable label (what the rule compared).
    public let confidence: Float
    public let fallbackApplied: Bool
    /// Every class's probability, in the model's label order.
    public let probabilities: [Float]

    public init(_ probabilities: [Float], labels: [String], topK: Int, fallback: FallbackRule?) {
        let order = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 < $1) }
        top = order.prefix(max(1, topK)).map { LabelScore(label: labels[$0], index: $0, probability: probabilities[$0]) }
        let highest = top[0].probability
        confidence = highest
        fallbackApplied = fallback.map { highest < $0.minimumConfidence } ?? false
        label = fallbackApplied ? fallback!.label : top[0].label
        self.probabilities = probabilities
    }
}

/// One input's answer: its classification, or why the image was refused (a reason code and a message).
public struct ImageResult: Sendable {
    public let name: String
    public let outcome: Result<Classification, ImageError>

    public init(name: String, outcome: Result<Classification, ImageError>) {
        (self.name, self.outcome) = (name, outcome)
    }

    public var classification: Classification? { try? outcome.get() }

    public var error: ImageError? {
        if case let .failure(error) = outcome { return error }
        return nil
    }
}

/// The answer document `predict --json` prints and `/v1/classify` returns: the model, its version, the time taken
/// (the server's; `predict` leaves it out) and one record per image.
public struct AnswerDocument: Encodable, Sendable {
    public let model: String
    public let modelVersion: String
    public let timeMs: Double?
    public let results: [PredictionRecord]

    public init(_ predictor: Predictor, results: [PredictionRecord], timeMs: Double? = nil) {
        (model, modelVersion, self.timeMs, self.results) = (predictor.modelName, predictor.modelVersion, timeMs, results)
    }

    enum CodingKeys: String, CodingKey {
        case model, results
        case modelVersion = "model_version"
        case timeMs = "time_ms"
    }
}

/// One answer as `predict --json/--jsonl` and the server's `/v1/classify` write it.
public struct PredictionRecord: Codable, Sendable, Equatable {
    public struct Refusal: Codable, Sendable, Equatable {
        /// The reason code (README "Reason codes"): not_an_image, truncated, corrupt, too_many_pixels, …
        public let reason: String
        public let message: String
    }

    public let name: String
    public let label: String?
    public let confidence: Float?
    public let fallbackApplied: Bool?
    public let top: [LabelScore]?
    public let error: Refusal?

    public init(_ result: ImageResult) {
        name = result.name
        let c = result.classification
        (label, confidence, fallbackApplied, top) = (c?.label, c?.confidence, c?.fallbackApplied, c?.top)
        error = result.error.map { Refusal(reason: $0.reason.rawValue, message: "\($0)") }
    }

    enum CodingKeys: String, CodingKey {
        case name, label, confidence, top, error
        case fallbackApplied = "fallback_applied"
    }
}

extension ImageInput {
    /// An image sent as base64 text: a data-URL prefix (`data:image/jpeg;base64,`) and line breaks are allowed, so
    /// are the URL-safe alphabet and missing padding; spaces count as `+` (what an unencoded `+` becomes in a
    /// form body). Anything else that is not base64 is an error that says so.
    public static func base64(_ text: some StringProtocol, name: String) throws(PredictError) -> ImageInput {
        var body = Substring(text)
        if body.hasPrefix("data:"), let comma = body.firstIndex(of: ",") {
            guard body[..<comma].hasSuffix(";base64") else {
                throw PredictError("\(name): the data URL is not base64 (its prefix has no ;base64)")
            }
            body = body[body.index(after: comma)...]
        }
        var characters: [UInt8] = []
        characters.reserveCapacity(body.utf8.count + 3)
        for byte in body.utf8 {
            switch byte {
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): continue
            case UInt8(ascii: " "), UInt8(ascii: "-"): characters.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): characters.append(UInt8(ascii: "/"))
            default: characters.append(byte)
            }
        }
        while characters.last == UInt8(ascii: "=") { characters.removeLast() }
        guard !characters.isEmpty else { throw PredictError("\(name): the base64 text is empty; send the image's bytes as base64") }
        characters += [UInt8](repeating: UInt8(ascii: "="), count: (4 - characters.count % 4) % 4)
        guard let data = Data(base64Encoded: Data(characters)) else {
            throw PredictError("\(name): not valid base64 (only A-Z, a-z, 0-9, +, / and = padding, or the URL-safe - and _); send the image's bytes as base64")
        }
        return ImageInput(name: name, bytes: [UInt8](data))
    }
}
