import Foundation

/// The Open Inference Protocol (KServe v2, Triton) REST bodies, as far as an image classifier takes part in them:
/// one BYTES input holding encoded images (base64 in JSON, as the protocol's JSON form carries bytes), and outputs
/// either as the probability tensor or as the classification extension's "score:index:label" strings.
public enum InferenceProtocol {
    /// An inference request: the images and what to answer.
    public struct Request: Sendable, Equatable {
        public let id: String?
        public let images: [ImagePayload]
        /// The output's name as asked (default "probabilities"), and `parameters.classification` when asked.
        public let outputName: String
        public let classification: Int?
    }

    public static func request(_ body: [UInt8]) throws(BodyError) -> Request {
        let value: Any
        do { value = try JSONSerialization.jsonObject(with: Data(body)) } catch {
            throw BodyError("the body is not valid JSON; send an inference request: {\"inputs\": [{\"name\": \"image\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [\"<base64>\"]}]}")
        }
        guard let object = value as? [String: Any] else { throw BodyError("the inference request must be a JSON object") }
        guard let inputs = object["inputs"] as? [Any], !inputs.isEmpty else {
            throw BodyError("the inference request has no \"inputs\" list")
        }
        guard inputs.count == 1, let input = inputs[0] as? [String: Any] else {
            throw BodyError("the model takes exactly one input (a BYTES tensor of encoded images); got \(inputs.count)")
        }
        let inputName = input["name"] as? String ?? "image"
        guard (input["datatype"] as? String)?.uppercased() == "BYTES" else {
            throw BodyError("input \(inputName): datatype must be BYTES (encoded images), not \(input["datatype"].map { "\($0)" } ?? "missing")")
        }
        guard let shape = input["shape"] as? [Any], let dimensions = shape.map({ $0 as? Int }) as? [Int], !dimensions.isEmpty,
              dimensions.allSatisfy({ $0 >= 0 }) else {
            throw BodyError("input \(inputName): shape must be a list of non-negative integers, such as [2] for two images")
        }
        // The data: a flat list of strings, or nested as the shape says.
        var texts: [String] = []
        func flatten(_ value: Any) throws(BodyError) {
            if let text = value as? String { return texts.append(text) }
            guard let list = value as? [Any] else { throw BodyError("input \(inputName): data must hold base64 strings") }
            for item in list { try flatten(item) }
        }
        guard let data = input["data"] else { throw BodyError("input \(inputName) has no \"data\"") }
        try flatten(data)
        // The product of the dimensions, stopping past the data's count (a crafted shape must not overflow).
        var count = 1
        for dimension in dimensions {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            count = overflow ? Int.max : min(product, Int.max / 2)
        }
        guard texts.count == count, count > 0 else {
            throw BodyError("input \(inputName): shape \(dimensions) means \(count) images, data holds \(texts.count)")
        }
        var outputName = "probabilities", classification: Int?
        if let outputs = object["outputs"] as? [Any], let first = outputs.first as? [String: Any] {
            guard outputs.count == 1 else { throw BodyError("the model has one output; ask for at most one") }
            outputName = first["name"] as? String ?? outputName
            if let parameters = first["parameters"] as? [String: Any], let k = parameters["classification"] {
                guard let k = k as? Int, k >= 1 else { throw BodyError("outputs[0].parameters.classification must be a positive integer") }
                classification = k
            }
        }
        return Request(id: object["id"] as? String, images: texts.enumerated().map { .base64(name: "\(inputName)[\($0)]", $1) },
                       outputName: outputName, classification: classification)
    }

    /// An output tensor: FP32 probabilities [images, classes] or BYTES classification strings [images, k].
    public struct Output: Encodable, Sendable {
        public let name: String
        public let datatype: String
        public let shape: [Int]
        public let data: Values

        public enum Values: Encodable, Sendable {
            case numbers([Float]), strings([String])
            public func encode(to encoder: Encoder) throws {
                var container = encoder.singleValueContainer()
                switch self {
                case let .numbers(values): try container.encode(values)
                case let .strings(values): try container.encode(values)
                }
            }
        }

        public init(name: String, datatype: String, shape: [Int], data: Values) {
            (self.name, self.datatype, self.shape, self.data) = (name, datatype, shape, data)
        }
    }

    /// An inference response.
    public struct Response: Encodable, Sendable {
        public let modelName: String
        public let modelVersion: String
        public let id: String?
        public let outputs: [Output]

        public init(modelName: String, modelVersion: String, id: String?, outputs: [Output]) {
            (self.modelName, self.modelVersion, self.id, self.outputs) = (modelName, modelVersion, id, outputs)
        }

        enum CodingKeys: String, CodingKey {
            case id, outputs
            case modelName = "model_name"
            case modelVersion = "model_version"
        }
    }

    /// The classification extension's string for one class: "score:index:label".
    public static func classificationString(score: Float, index: Int, label: String) -> String {
        String(format: "%f", score) + ":\(index):\(label)"
    }
}
