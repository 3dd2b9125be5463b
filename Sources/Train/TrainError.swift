/// A training or evaluation run that cannot go on: the message names the file or folder and what to do.
public struct TrainError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
