import Engine
import Files

/// A training or evaluation run that cannot go on: the message names the file or folder and what to do.
public typealias TrainError = ErrorMessage
