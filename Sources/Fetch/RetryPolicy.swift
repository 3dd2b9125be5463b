internal import CCurl
import StageContract

/// What the engine decides about a finished transfer.
enum Outcome: Equatable {
    /// A body to process.
    case success
    /// Try again after `delay` seconds (`serverAsked`: a Retry-After the host's schedule must honour too).
    case retry(delay: Double, reason: Reason, serverAsked: Bool)
    /// Give up: a stable reason code and words for people.
    case failure(reason: Reason, message: String)
}

/// Turns libcurl results and HTTP statuses into outcomes: retry with exponential backoff and jitter for
/// timeouts, connection errors, 5xx and 429; honour Retry-After; never retry other 4xx.
public struct RetryPolicy: Sendable {
    /// Attempts per URL in one run, the first included.
    public var maxAttempts = 3
    /// First backoff; doubles per attempt, with ±50% jitter, up to `maxBackoff`.
    public var baseBackoff = 1.0
    public var maxBackoff = 60.0
    /// A Retry-After longer than this is not waited for: the URL fails (the run must end).
    public var maxRetryAfter = 300.0

    public init() {}

    func decide(_ r: FetchResponse, random: inout some RandomNumberGenerator) -> Outcome {
        if r.optedOut && (200..<300).contains(r.httpStatus) {
            return .failure(reason: .fetch(.optedOut), message: "X-Robots-Tag forbids AI use (noai/noimageai)")
        }
        if r.tooLarge {
            return .failure(reason: .fetch(.tooLarge), message: "the response is larger than the --max-bytes cap")
        }
        if r.curlCode != 0 {
            return decideTransportFailure(r, random: &random)
        }
        switch r.httpStatus {
        case 200..<300:
            return .success
        case 429, 503:
            let reason = Reason.http(status: r.httpStatus)
            if let wait = r.retryAfter {
                guard wait <= maxRetryAfter else {
                    return .failure(reason: reason, message: "the server asked to wait \(Int(wait)) s, more than --max-retry-after")
                }
                return retryOrFail(r, delay: max(wait, 0.1), reason: reason, serverAsked: true,
                                   message: "HTTP \(r.httpStatus) after \(r.job.attempt) attempts")
            }
            return retryOrFail(r, delay: backoff(r.job.attempt, &random), reason: reason, serverAsked: false,
                               message: "HTTP \(r.httpStatus) after \(r.job.attempt) attempts")
        case 408, 500..<600:
            return retryOrFail(r, delay: backoff(r.job.attempt, &random), reason: .http(status: r.httpStatus), serverAsked: false,
                               message: "HTTP \(r.httpStatus) after \(r.job.attempt) attempts")
        default:
            return .failure(reason: .http(status: r.httpStatus), message: "HTTP \(r.httpStatus)")
        }
    }

    private func decideTransportFailure(_ r: FetchResponse, random: inout some RandomNumberGenerator) -> Outcome {
        let code = CURLcode(UInt32(r.curlCode))
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return retryOrFail(r, delay: backoff(r.job.attempt, &random), reason: .fetch(.timeout), serverAsked: false,
                               message: "\(r.curlMessage) (after \(r.job.attempt) attempts)")
        case CURLE_COULDNT_CONNECT, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_HTTP2,
             CURLE_HTTP2_STREAM, CURLE_SSL_CONNECT_ERROR, CURLE_PARTIAL_FILE:
            let reason: Reason = code == CURLE_PARTIAL_FILE ? .image(.truncated) : .fetch(.connectionFailed)
            return retryOrFail(r, delay: backoff(r.job.attempt, &random), reason: reason, serverAsked: false,
                               message: "\(r.curlMessage) (after \(r.job.attempt) attempts)")
        case CURLE_COULDNT_RESOLVE_HOST:
            return .failure(reason: .fetch(.dnsError), message: r.curlMessage)
        case CURLE_TOO_MANY_REDIRECTS:
            return .failure(reason: .fetch(.tooManyRedirects), message: r.curlMessage)
        case CURLE_UNSUPPORTED_PROTOCOL:
            return .failure(reason: .fetch(.redirectRefused), message: "redirected to a URL that is not http or https")
        case CURLE_FILESIZE_EXCEEDED:
            return .failure(reason: .fetch(.tooLarge), message: "the announced size is larger than the --max-bytes cap")
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE:
            return .failure(reason: .fetch(.tlsError), message: r.curlMessage)
        case CURLE_URL_MALFORMAT:
            return .failure(reason: .fetch(.invalidURL), message: r.curlMessage)
        default:
            return .failure(reason: .fetch(.networkError), message: r.curlMessage)
        }
    }

    private func retryOrFail(_ r: FetchResponse, delay: Double, reason: Reason, serverAsked: Bool, message: String) -> Outcome {
        r.job.attempt < maxAttempts ? .retry(delay: delay, reason: reason, serverAsked: serverAsked)
            : .failure(reason: reason, message: message)
    }

    func backoff(_ attempt: Int, _ random: inout some RandomNumberGenerator) -> Double {
        let base = min(maxBackoff, baseBackoff * Double(1 << min(attempt - 1, 20)))
        return base * Double.random(in: 0.5..<1.5, using: &random)
    }
}
