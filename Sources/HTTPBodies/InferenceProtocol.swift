import Foundation

/// The Open Inference Protocol (KServe v2, Triton) REST bodies, as far as an image classifier takes part in them:
/// one BYTES input holding encoded images, and outputs either as the probability tensor or as the classification
/// extension's "score:index:label" strings. Tensors travel in the JSON (images as base64) or, with the binary
/// tensor data extension that tritonclient uses by default, as raw bytes after the JSON header
/// (`Inference-Header-Content-Length` gives its length; a BYTES element is a 4-byte little-endian length, then
/// its bytes).
public enum InferenceProtocol {
    /// The header that gives the JSON part's length in a body with binary tensor data.
    public static let headerLengthField = "Inference-Header-Content-Length"

    /// An inference request: the images and what to answer.
    public struct Request: Sendable, Equatable {
        public let id: String?
        public let images: [ImagePayload]
        /// The output's name as asked (default "probabilities"), and `parameters.classification` when asked.
        public let outputName: String
        public let classification: Int?
        /// The output as binary tensor data after the JSON (`binary_data` on the output, or `binary_data_output`
        /// on the request), not in it.
        public var binaryOutput = false
    }

    /// `headerLength`: the value of `Inference-Header-Content-Length`, when the request has one: the body's first
    /// that many bytes are the JSON, the rest the inputs' binary data.
    public static func request(_ body: [UInt8], headerLength: String? = nil) throws(BodyError) -> Request {
        var json = body[...], binary: ArraySlice<UInt8> = []
        if let headerLength {
            guard let length = Int(headerLength.trimmingCharacters(in: .whitespaces)), (1...body.count).contains(length) else {
                throw BodyError("\(headerLengthField): \(headerLength) is not a length within the body's \(body.count) bytes")
            }
            (json, binary) = (body[..<length], body[length...])
        }
        let value: Any
        do { value = try JSONSerialization.jsonObject(with: Data(json)) } catch {
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
        // The product of the dimensions, stopping past any real count (a crafted shape must not overflow).
        var count = 1
        for dimension in dimensions {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            count = overflow ? Int.max : min(product, Int.max / 2)
        }
        let images: [ImagePayload]
        if let size = (input["parameters"] as? [String: Any])?["binary_data_size"] {
            guard let size = size as? Int, size >= 0, size <= binary.count else {
                throw BodyError("input \(inputName): parameters.binary_data_size must be the size of its binary data (\(binary.count) bytes follow the JSON header)")
            }
            guard size == binary.count else {
                throw BodyError("input \(inputName): binary_data_size \(size) leaves \(binary.count - size) bytes after the JSON header unread (the model has one input)")
            }
            let elements = try bytesElements(binary, input: inputName)
            guard elements.count == count, count > 0 else {
                throw BodyError("input \(inputName): shape \(dimensions) means \(count) images, its binary data holds \(elements.count)")
            }
            images = elements.enumerated().map { .bytes(name: "\(inputName)[\($0)]", Array($1)) }
        } else {
            guard binary.isEmpty else {
                throw BodyError("\(binary.count) bytes follow the JSON header but no input has parameters.binary_data_size")
            }
            // The data: a flat list of strings, or nested as the shape says.
            var texts: [String] = []
            func flatten(_ value: Any) throws(BodyError) {
                if let text = value as? String { return texts.append(text) }
                guard let list = value as? [Any] else { throw BodyError("input \(inputName): data must hold base64 strings") }
                for item in list { try flatten(item) }
            }
            guard let data = input["data"] else { throw BodyError("input \(inputName) has no \"data\" (nor parameters.binary_data_size)") }
            try flatten(data)
            guard texts.count == count, count > 0 else {
                throw BodyError("input \(inputName): shape \(dimensions) means \(count) images, data holds \(texts.count)")
            }
            images = texts.enumerated().map { .base64(name: "\(inputName)[\($0)]", $1) }
        }
        var outputName = "probabilities", classification: Int?
        var binaryOutput = try flag("binary_data_output", in: object["parameters"], of: "the request")
        if let outputs = object["outputs"] as? [Any], let first = outputs.first as? [String: Any] {
            guard outputs.count == 1 else { throw BodyError("the model has one output; ask for at most one") }
            outputName = first["name"] as? String ?? outputName
            if let parameters = first["parameters"] as? [String: Any], let k = parameters["classification"] {
                guard let k = k as? Int, k >= 1 else { throw BodyError("outputs[0].parameters.classification must be a positive integer") }
                classification = k
            }
            if (first["parameters"] as? [String: Any])?["binary_data"] != nil {
                binaryOutput = try flag("binary_data", in: first["parameters"], of: "outputs[0]")
            }
        }
        var request = Request(id: object["id"] as? String, images: images, outputName: outputName, classification: classification)
        request.binaryOutput = binaryOutput
        return request
    }

    /// A boolean parameter, false when absent.
    private static func flag(_ name: String, in parameters: Any?, of owner: String) throws(BodyError) -> Bool {
        guard let value = (parameters as? [String: Any])?[name] else { return false }
        guard let flag = value as? Bool else { throw BodyError("\(owner): parameters.\(name) must be true or false") }
        return flag
    }

    /// A BYTES tensor's binary elements: each a 4-byte little-endian length, then that many bytes.
    static func bytesElements(_ data: ArraySlice<UInt8>, input: String) throws(BodyError) -> [ArraySlice<UInt8>] {
        var elements: [ArraySlice<UInt8>] = []
        var at = data.startIndex
        while at < data.endIndex {
            guard data.endIndex - at >= 4 else {
                throw BodyError("input \(input): element \(elements.count) of its binary data is cut short (\(data.endIndex - at) bytes, not a 4-byte length)")
            }
            let length = (0..<4).reduce(0) { $0 | Int(data[at + $1]) << (8 * $1) }
            at += 4
            guard length <= data.endIndex - at else {
                throw BodyError("input \(input): element \(elements.count) says \(length) bytes, \(data.endIndex - at) follow")
            }
            elements.append(data[at..<(at + length)])
            at += length
        }
        return elements
    }

    /// An output tensor: FP32 probabilities [images, classes] or BYTES classification strings [images, k]. As
    /// binary data, `data` is nil in the JSON and `parameters` gives its size.
    public struct Output: Encodable, Sendable {
        public let name: String
        public let datatype: String
        public let shape: [Int]
        public let data: Values?
        public var parameters: [String: Int]?

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

        public init(name: String, datatype: String, shape: [Int], data: Values?) {
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

    /// A response with its outputs as binary tensor data: the JSON (each output's `parameters.binary_data_size`
    /// and no `data`) followed by their bytes, FP32 as little-endian floats, BYTES as length-prefixed strings. The
    /// JSON's length goes in `Inference-Header-Content-Length`.
    public static func binaryBody(_ response: Response, json encode: (Response) throws -> [UInt8]) rethrows -> (body: [UInt8], headerLength: Int) {
        var data: [UInt8] = []
        var outputs: [Output] = []
        for output in response.outputs {
            let start = data.count
            switch output.data {
            case let .numbers(values)?:
                for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            case let .strings(values)?:
                for value in values {
                    let bytes = Array(value.utf8)
                    withUnsafeBytes(of: UInt32(bytes.count).littleEndian) { data.append(contentsOf: $0) }
                    data.append(contentsOf: bytes)
                }
            case nil: break
            }
            var described = Output(name: output.name, datatype: output.datatype, shape: output.shape, data: nil)
            described.parameters = ["binary_data_size": data.count - start]
            outputs.append(described)
        }
        let header = try encode(Response(modelName: response.modelName, modelVersion: response.modelVersion, id: response.id, outputs: outputs))
        return (header + data, header.count)
    }

    /// The classification extension's string for one class: "score:index:label".
    public static func classificationString(score: Float, index: Int, label: String) -> String {
        String(format: "%f", score) + ":\(index):\(label)"
    }
}
