/// Something that shows how far a long loop is (the command line's progress bar), for loops in modules that
/// must not import the console (the engine): `start` once the work is counted, `advance` as it goes, `finish` at
/// the end.
public protocol ProgressDisplay: AnyObject, Sendable {
    func start(total: Int)
    func advance(by count: Int)
    func finish()
}
