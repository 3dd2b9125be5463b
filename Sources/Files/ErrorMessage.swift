/// A refusal a person reads: the message names the file, folder, URL or request field and what to do. Every
/// module throws this one type under its own name (`FetchError`, `TrainError`, ...: typealiases, so a
/// signature still says whose refusal it is), and a caller prints it as it is.
public struct ErrorMessage: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
