/// A training or evaluation run that cannot go on: the message names the file or folder and what to do.
public struct TrainError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Labels for a message: all of them when few, else the first ones and the count (an ImageNet model has 1000).
func labelList(_ labels: [String]) -> String {
    labels.count <= 12 ? labels.joined(separator: ", ") : labels.prefix(10).joined(separator: ", ") + ", … (\(labels.count) in all)"
}
