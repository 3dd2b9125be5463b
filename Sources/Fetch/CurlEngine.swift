internal import CCurl
import Files
import Foundation
import StageContract

/// Settings of the transfer engine.
public struct EngineSettings: Sendable {
    /// Transfers in flight at once.
    public var concurrency = 64
    /// Transfers in flight per host.
    public var perHostConnections = 8
    /// Request starts per second per host (nil: no limit).
    public var requestsPerSecond: Double?
    public var connectTimeout = 10.0
    /// Whole-transfer limit, so a slow or stuck host cannot hold a slot for ever.
    public var totalTimeout = 60.0
    /// A transfer slower than `lowSpeedBytes` per second for `lowSpeedSeconds` is cut off (stalled).
    public var lowSpeedBytes = 1024
    public var lowSpeedSeconds = 15
    /// A transfer whose server has sent nothing this long stops counting against its host's limit (and the
    /// run's), though it goes on until its own timeouts: half the stall time, so a host whose slots are all
    /// taken by URLs that never answer serves its other URLs again after that.
    public var firstByteDeadline: Double { max(1, Double(lowSpeedSeconds) / 2) }
    public var maxBytes = 20 * 1024 * 1024
    public var maxRedirects = 5
    public var userAgent = "imgcls/\(imgclsVersion) (+https://github.com/imgcls/imgcls; image dataset builder)"
    /// Skip responses marked `X-Robots-Tag: noai` / `noimageai`.
    public var respectOptOut = true
    /// Read each host's robots.txt once and obey it.
    public var respectRobots = false
    public var retry = RetryPolicy()

    public init() {}
}


/// A libcurl multi-interface engine on its own thread: it pulls jobs, schedules them politely per host, runs
/// up to `concurrency` transfers, retries what may succeed later, and hands every final response to
/// `deliver`. It never does CPU work on responses itself, so the network never waits for decoding.
final class CurlEngine: @unchecked Sendable {
    /// What the source has: jobs, nothing at the moment (more may come: call `wake()` when it does), or
    /// nothing ever again.
    enum SourceChunk {
        case jobs([FetchJob])
        case nothingYet
        case exhausted
    }

    typealias JobSource = () -> SourceChunk

    private let settings: EngineSettings
    private let multi: UnsafeMutableRawPointer
    private var scheduler: HostScheduler
    private var delayed: [FetchJob] = []          // retries waiting for their time, kept sorted by notBefore
    private var transfers: [UnsafeMutableRawPointer: Transfer] = [:]
    /// Transfers released from the limits because their servers have not answered (`releaseSilentTransfers`).
    private var silentTransfers = 0
    private var lastSilenceCheck = 0.0
    private var spareHandles: [UnsafeMutableRawPointer] = []
    private var random = SystemRandomNumberGenerator()

    private let inboxLock = NSLock()
    private var inbox: [FetchJob] = []
    private var outstanding = 0                  // delivered responses not yet marked processed
    private var stopRequested = false
    private var sourceMayHaveMore = false

    /// Called on the engine thread with each final response and what it came to (success, or a failure
    /// after any retries). It must not block: hand the work to another thread.
    var deliver: (FetchResponse, Outcome) -> Void = { _, _ in }
    private var jobSource: JobSource = { .exhausted }
    private var sourceExhausted = false
    /// When the source last came back empty: it is asked again at most every quarter second until the end.
    private var sourceEmptyAt = -Double.infinity
    /// Responses delivered but not yet processed, after which no new transfers start (memory bound).
    private let maxOutstanding: Int
    /// Processed bodies come back here (`recycle`) for the next transfers.
    private let buffers: BufferPool

    init(settings: EngineSettings) {
        self.settings = settings
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        multi = curl_multi_init()
        scheduler = HostScheduler(perHostConnections: settings.perHostConnections,
                                  requestsPerSecond: settings.requestsPerSecond, respectRobots: settings.respectRobots)
        maxOutstanding = settings.concurrency * 2
        buffers = BufferPool(limit: settings.concurrency * 3)
        // Twice the limits: the scheduler keeps the limits itself, and transfers released past their first-byte
        // deadline still hold their connections (libcurl would queue new transfers behind them, timers running).
        imgcls_curl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, settings.concurrency * 2)
        imgcls_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, settings.perHostConnections * 2)
        imgcls_curl_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
        imgcls_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, settings.concurrency * 2)
    }

    deinit {
        for handle in spareHandles { curl_easy_cleanup(handle) }
        curl_multi_cleanup(multi)
    }

    /// Adds jobs from any thread (scraped links, for example).
    func submit(_ jobs: [FetchJob]) {
        guard !jobs.isEmpty else { return }
        inboxLock.lock()
        inbox += jobs
        inboxLock.unlock()
        curl_multi_wakeup(multi)
    }

    /// Marks a delivered response as processed (from any thread). Until then it counts against the memory
    /// bound, and the run cannot end (processing may submit more jobs).
    func processed() {
        inboxLock.lock()
        outstanding -= 1
        // Wake the engine only when this can change what it does: room under the memory bound again, or
        // nothing left in processing (the run may be over, or a page may have added work).
        let wake = outstanding == maxOutstanding - 1 || outstanding == 0
        inboxLock.unlock()
        if wake { curl_multi_wakeup(multi) }
    }

    /// Hands a processed response body back for reuse.
    func recycle(_ body: [UInt8]) {
        buffers.give(body)
    }

    /// Asks the run to stop starting transfers (in-flight ones finish).
    func stop() {
        inboxLock.lock()
        stopRequested = true
        inboxLock.unlock()
        curl_multi_wakeup(multi)
    }

    /// Runs until the source is drained and every job has a final response. Call on a dedicated thread.
    func run(source: @escaping JobSource) {
        jobSource = source
        while true {
            let (newJobs, pendingWork, stopping) = takeInbox()
            for job in newJobs { scheduler.enqueue(job) }
            let now = monotonicSeconds()
            releaseDueRetries(now: now)
            releaseSilentTransfers(now: now)
            if !stopping { startTransfers(now: now, pendingWork: pendingWork) }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            collectFinished()
            if transfers.isEmpty {
                if stopping { break }
                // Processing may still turn a response into new jobs: the run ends only when nothing is
                // outstanding and the source has nothing more.
                if isIdle() {
                    if refillFromSource() { continue }
                    if sourceExhausted { break }
                }
            }
            curl_multi_poll(multi, nil, 0, pollTimeout(now: monotonicSeconds()), nil)
        }
    }

    private func takeInbox() -> ([FetchJob], Int, Bool) {
        inboxLock.lock()
        defer { inboxLock.unlock() }
        let jobs = inbox
        inbox.removeAll()
        if sourceMayHaveMore {
            sourceMayHaveMore = false
            sourceEmptyAt = -Double.infinity  // ask the source again now
        }
        return (jobs, outstanding, stopRequested)
    }

    private func isIdle() -> Bool {
        inboxLock.lock()
        defer { inboxLock.unlock() }
        return outstanding == 0 && inbox.isEmpty && scheduler.queued == 0 && delayed.isEmpty
    }

    /// Pulls the next chunk of jobs; false when the source has none now.
    @discardableResult
    private func refillFromSource() -> Bool {
        switch jobSource() {
        case .jobs(let jobs) where !jobs.isEmpty:
            sourceEmptyAt = -Double.infinity
            for job in jobs { scheduler.enqueue(job) }
            return true
        case .exhausted:
            sourceExhausted = true
            sourceEmptyAt = monotonicSeconds()
            return false
        default:
            sourceExhausted = false
            sourceEmptyAt = monotonicSeconds()
            return false
        }
    }

    /// Tells the engine its source may have new jobs (from any thread).
    func wake() {
        inboxLock.lock()
        sourceMayHaveMore = true
        inboxLock.unlock()
        curl_multi_wakeup(multi)
    }

    private func releaseDueRetries(now: Double) {
        while let first = delayed.first, first.notBefore <= now {
            delayed.removeFirst()
            // A robots.txt retry bypasses the queue: the host's jobs are waiting for its answer.
            if first.kind == .robots { start(scheduler.startRobotsRetry(first, now: now)) } else { scheduler.enqueue(first) }
        }
    }

    private func startTransfers(now: Double, pendingWork: Int) {
        var pendingWork = pendingWork
        while transfers.count - silentTransfers < settings.concurrency && transfers.count + pendingWork < maxOutstanding {
            switch scheduler.next(now: now) {
            case .start(let job):
                start(job)
            case .refused(let job, let reason, let message):
                deliverFinal(FetchResponse(job: job), .failure(reason: reason, message: message))
                pendingWork += 1
            case nil:
                // Nothing can start: read more of the source, unless a large backlog only waits on busy hosts.
                guard scheduler.queued < 20_000, now - sourceEmptyAt > 0.25, refillFromSource() else { return }
            }
        }
    }

    /// Transfers past their first-byte deadline with nothing from the server stop counting against their
    /// host's limit and the run's (at most as many as each limit), so their hosts and the run start others.
    /// Checked every quarter second: the deadline is whole seconds.
    private func releaseSilentTransfers(now: Double) {
        guard now - lastSilenceCheck >= 0.25 else { return }
        lastSilenceCheck = now
        for transfer in transfers.values where !transfer.releasedFromHost && transfer.firstByteAt == nil
            && now - transfer.started > settings.firstByteDeadline && silentTransfers < settings.concurrency {
            if scheduler.release(transfer.job) {
                transfer.releasedFromHost = true
                silentTransfers += 1
            }
        }
    }

    private func deliverFinal(_ response: FetchResponse, _ outcome: Outcome) {
        inboxLock.lock()
        outstanding += 1
        inboxLock.unlock()
        deliver(response, outcome)
    }

    private func start(_ job: FetchJob) {
        let handle = spareHandles.popLast() ?? newHandle()
        let transfer = Transfer(job: job, handle: handle, maxBytes: job.kind == .robots ? RobotsRules.maximumBytes : settings.maxBytes,
                                respectOptOut: settings.respectOptOut, buffer: buffers.take())
        let user = Unmanaged.passUnretained(transfer).toOpaque()
        // Waiting to multiplex on a host's first connection suits https only, where TLS says at once whether
        // HTTP/2 is on; on http, libcurl waited for that connection's first response, so every transfer queued
        // behind a URL that never answers timed out with it.
        imgcls_curl_setopt_long(handle, CURLOPT_PIPEWAIT, job.url.hasPrefix("https:") ? 1 : 0)
        // robots.txt past the cap is cut, not refused (RFC 9309 reads the first 500 KiB): no size limit there.
        imgcls_curl_setopt_off(handle, CURLOPT_MAXFILESIZE_LARGE, job.kind == .robots ? 0 : curl_off_t(transfer.maxBytes))
        imgcls_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, user)
        imgcls_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, user)
        // A reused handle keeps its last URL: if this one is refused, the transfer must not start at all.
        let urlStatus = imgcls_curl_setopt_string(handle, CURLOPT_URL, job.url)
        guard urlStatus == CURLE_OK, curl_multi_add_handle(multi, handle) == CURLM_OK else {
            spareHandles.append(handle)
            let why = urlStatus == CURLE_OK ? "libcurl could not start the transfer" : String(cString: curl_easy_strerror(urlStatus))
            scheduler.finished(job, succeeded: false, now: monotonicSeconds())
            if job.kind == .robots {
                scheduler.setRobots(.unavailable(why), for: job.host)
            } else {
                deliverFinal(FetchResponse(job: job), .failure(reason: .fetch(urlStatus == CURLE_OK ? .networkError : .invalidURL), message: why))
            }
            return
        }
        transfers[handle] = transfer
    }

    /// An easy handle with the options every transfer shares. Handles are reused without a reset, so
    /// libcurl keeps their buffers and caches from one transfer to the next; `start` sets what differs.
    private func newHandle() -> UnsafeMutableRawPointer {
        let handle = curl_easy_init()!
        imgcls_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        imgcls_curl_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        imgcls_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 1)
        imgcls_curl_setopt_long(handle, CURLOPT_MAXREDIRS, settings.maxRedirects)
        imgcls_curl_setopt_string(handle, CURLOPT_USERAGENT, settings.userAgent)
        imgcls_curl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, "")  // every encoding libcurl decodes
        imgcls_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(settings.connectTimeout * 1000))
        imgcls_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(settings.totalTimeout * 1000))
        imgcls_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, settings.lowSpeedBytes)
        imgcls_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, settings.lowSpeedSeconds)
        imgcls_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        imgcls_curl_setopt_long(handle, CURLOPT_BUFFERSIZE, 256 * 1024)  // fewer reads and callbacks per image
        imgcls_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, Transfer.writeCallback)
        imgcls_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION, Transfer.headerCallback)
        return handle
    }

    private func collectFinished() {
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                  let transfer = transfers.removeValue(forKey: handle) else { continue }
            let code = imgcls_curl_msg_result(message)
            curl_multi_remove_handle(multi, handle)
            if transfer.releasedFromHost { silentTransfers -= 1 }
            finish(transfer, code: code)
            spareHandles.append(handle)
        }
    }

    private func finish(_ transfer: Transfer, code: CURLcode) {
        let handle = transfer.handle
        var status = 0
        imgcls_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var effective: UnsafeMutablePointer<CChar>?
        imgcls_curl_getinfo_string(handle, CURLINFO_EFFECTIVE_URL, &effective)
        var contentType: UnsafeMutablePointer<CChar>?
        imgcls_curl_getinfo_string(handle, CURLINFO_CONTENT_TYPE, &contentType)
        var retryAfter: curl_off_t = 0
        imgcls_curl_getinfo_off(handle, CURLINFO_RETRY_AFTER, &retryAfter)
        if code == CURLE_OK { transfer.checkOptOut() }
        let response = FetchResponse(
            job: transfer.job, curlCode: Int32(code.rawValue), curlMessage: String(cString: curl_easy_strerror(code)),
            httpStatus: status, finalURL: effective.map { String(cString: $0) }, contentType: contentType.map { String(cString: $0) },
            body: transfer.body, tooLarge: transfer.tooLarge, optedOut: transfer.optedOut,
            retryAfter: retryAfter > 0 ? Double(retryAfter) : nil, elapsed: monotonicSeconds() - transfer.started)
        if transfer.job.kind == .robots {
            finishRobots(response, released: transfer.releasedFromHost)
            return
        }
        let outcome = settings.retry.decide(response, random: &random)
        let now = monotonicSeconds()
        switch outcome {
        case .retry(let delay, _, let serverAsked):
            scheduler.finished(transfer.job, succeeded: false, pauseUntil: serverAsked ? now + delay : nil,
                               released: transfer.releasedFromHost, now: now)
            retry(transfer.job, at: now + delay)
        case .success, .failure:
            scheduler.finished(transfer.job, succeeded: outcome == .success, released: transfer.releasedFromHost, now: now)
            deliverFinal(response, outcome)
        }
    }

    /// Keeps `job` aside until `time`, in time order, as its next attempt.
    private func retry(_ job: FetchJob, at time: Double) {
        var again = job
        again.attempt += 1
        again.notBefore = time
        let index = delayed.firstIndex { $0.notBefore > time } ?? delayed.endIndex
        delayed.insert(again, at: index)
    }

    /// RFC 9309: a 2xx body gives the rules; 4xx means no rules. Timeouts, connection errors and 5xx are
    /// retried like any transfer; if robots.txt still cannot be read, the host is off limits and its jobs
    /// fail as `robots_unavailable` (retryable later), not as disallowed.
    private func finishRobots(_ response: FetchResponse, released: Bool) {
        let host = response.job.host
        let now = monotonicSeconds()
        func finished(succeeded: Bool, pauseUntil: Double? = nil) {
            scheduler.finished(response.job, succeeded: succeeded, pauseUntil: pauseUntil, released: released, now: now)
        }
        switch (response.curlCode, response.httpStatus) {
        case (0, 200..<300):
            finished(succeeded: true)
            scheduler.setRobots(.ready(RobotsRules(parsing: response.body)), for: host)
            return
        case (0, 400..<500) where response.httpStatus != 429:
            finished(succeeded: true)
            scheduler.setRobots(.ready(.allowAll), for: host)
            return
        default:
            break
        }
        switch settings.retry.decide(response, random: &random) {
        case .retry(let delay, _, let serverAsked):
            finished(succeeded: false, pauseUntil: serverAsked ? now + delay : nil)
            retry(response.job, at: now + delay)
        case .failure(let reason, _):
            finished(succeeded: false)
            scheduler.setRobots(.unavailable(reason.code), for: host)
        case .success:
            finished(succeeded: true)
            scheduler.setRobots(.ready(.allowAll), for: host)
        }
    }

    private func pollTimeout(now: Double) -> Int32 {
        var wake = now + 1
        if let retry = delayed.first { wake = min(wake, retry.notBefore) }
        if let next = scheduler.nextStartTime(), next > now { wake = min(wake, next) }
        return Int32(max(1, min(1000, (wake - now) * 1000)))
    }
}
