import Files

/// A problem that stops a fetch before or during the run (a bad manifest, an unwritable workspace). Failures
/// of single URLs are not errors: they are catalog rows with a reason.
public typealias FetchError = ErrorMessage
