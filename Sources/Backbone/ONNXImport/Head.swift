import ONNXModel

/// The classifier at the end of an image network: the last MatMul or Gemm on constant weights, then an optional
/// bias (Add of a constant) and an optional softmax. It becomes the model's head (`Dense`), so `classify` gives
/// the network's own answer and `train` replaces it; what it reads is the features.
struct Head {
    let features: String
    /// [features, classes], row-major.
    let weight: [Float]
    let bias: [Float]
    let classes: Int

    static func find(in graph: ONNXGraph) throws(ONNXError) -> Head {
        var value = graph.output
        var bias: [Float]?
        while let node = graph.producer(of: value) {
            switch node.op {
            case "Softmax" where bias == nil:
                value = node.inputs[0]
            case "Add" where bias == nil && node.inputs.filter({ graph.constants[$0] != nil }).count == 1:
                bias = graph.constants[node.inputs.first { graph.constants[$0] != nil }!]!.floats
                value = node.inputs.first { graph.constants[$0] == nil }!
            case "MatMul", "Gemm":
                guard let weight = node.input(1).flatMap({ graph.constants[$0] }), weight.shape.count == 2, node.int("transA") != 1,
                      graph.constants[node.inputs[0]] == nil else { fallthrough }
                let (matrix, k, n) = Self.matrix(node, weight)
                var total = [Float](repeating: 0, count: n)
                if node.op == "Gemm", let c = node.input(2), let given = graph.constants[c] {
                    guard given.count == n || given.count == 1 else { throw ONNXError(node: node, "its bias has \(given.count) values for \(n) classes") }
                    let beta = node.float("beta") ?? 1
                    for j in 0..<n { total[j] += (given.count == n ? given.floats[j] : given.floats[0]) * beta }
                }
                if let bias {
                    guard bias.count == n || bias.count == 1 else { throw ONNXError(problem: "the bias after \(node.label) has \(bias.count) values for \(n) classes") }
                    for j in 0..<n { total[j] += bias.count == n ? bias[j] : bias[0] }
                }
                guard (graph.shapes[node.inputs[0]] ?? []).last == k else { throw ONNXError(node: node, "its input does not end in \(k) features") }
                return Head(features: node.inputs[0], weight: matrix, bias: total, classes: n)
            default:
                throw ONNXError(problem: "the network does not end in a classifier (a MatMul or Gemm on weights, then an optional bias and softmax): its output comes from \(node.label)")
            }
        }
        throw ONNXError(problem: "the network does not end in a classifier: its output \(graph.output) is the input")
    }

    /// A product's weights as [K, N] row-major (Gemm's transB undone, its alpha applied).
    static func matrix(_ node: ONNXNode, _ weight: ONNXTensor) -> (values: [Float], k: Int, n: Int) {
        let values = weight.floats, alpha = node.op == "Gemm" ? node.float("alpha") ?? 1 : 1
        if node.op == "Gemm" && node.int("transB") == 1 {
            let (n, k) = (weight.shape[0], weight.shape[1])
            var transposed = [Float](repeating: 0, count: values.count)
            for i in 0..<n { for j in 0..<k { transposed[j * n + i] = values[i * k + j] * alpha } }
            return (transposed, k, n)
        }
        return (alpha == 1 ? values : values.map { $0 * alpha }, weight.shape[0], weight.shape[1])
    }
}
