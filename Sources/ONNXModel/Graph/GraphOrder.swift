/// Puts the nodes in an order where each input is produced before it is read (ONNX asks exporters for that
/// order; a crafted file may not keep it), and refuses what no order can fix: a name produced twice, an input that
/// nothing produces, a cycle. Nodes that the output does not need are dropped.
enum GraphOrder {
    static func sort(_ graph: inout ONNXGraph) throws(ONNXError) {
        var producer: [String: Int] = [:]
        for (index, node) in graph.nodes.enumerated() {
            for output in node.outputs where !output.isEmpty {
                guard producer[output] == nil, graph.constants[output] == nil, output != graph.input else {
                    throw ONNXError(node: node, "value \(output) is produced twice")
                }
                producer[output] = index
            }
        }
        for node in graph.nodes {
            for input in node.inputs where !input.isEmpty {
                guard producer[input] != nil || graph.constants[input] != nil || input == graph.input else {
                    throw ONNXError(node: node, "input \(input) is produced by no node, initializer or graph input")
                }
            }
        }
        guard producer[graph.output] != nil || graph.constants[graph.output] != nil || graph.output == graph.input else {
            throw ONNXError(problem: "output \(graph.output) is produced by no node")
        }

        // The nodes the output needs, found backwards from it.
        var needed = Set<Int>()
        var pending = [graph.output]
        while let value = pending.popLast() {
            guard let index = producer[value], needed.insert(index).inserted else { continue }
            pending += graph.nodes[index].inputs.filter { !$0.isEmpty }
        }

        // Kahn's order over the needed nodes; what is left once no node is ready lies on a cycle.
        var waiting: [Int: Int] = [:]
        var readers: [Int: [Int]] = [:]
        for index in needed {
            let sources = Set(graph.nodes[index].inputs.compactMap { producer[$0] })
            waiting[index] = sources.count
            for source in sources { readers[source, default: []].append(index) }
        }
        var ready = needed.filter { waiting[$0] == 0 }.sorted(by: >)
        var order: [Int] = []
        while let index = ready.popLast() {
            order.append(index)
            for reader in readers[index, default: []] {
                waiting[reader]! -= 1
                if waiting[reader] == 0 {
                    // Keep the file's order among ready nodes (errors and reports then follow the file).
                    let position = ready.firstIndex { $0 < reader } ?? ready.endIndex
                    ready.insert(reader, at: position)
                }
            }
        }
        guard order.count == needed.count else {
            let stuck = needed.subtracting(order).sorted().prefix(3).map { graph.nodes[$0].label }
            throw ONNXError(problem: "nodes \(stuck.joined(separator: ", ")) form a cycle: each waits for another's output")
        }
        graph.nodes = order.map { graph.nodes[$0] }
    }
}
