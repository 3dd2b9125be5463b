import StageContract
/// Politeness per host: a queue of jobs, a cap on transfers in flight, a minimum interval between request
/// starts (`--rate`, or a robots.txt Crawl-delay), and pauses the host asked for (429/503 `Retry-After`,
/// which also halves its concurrency until it recovers). Hosts take turns, so one big host cannot starve the
/// others. Used on the engine thread only.
struct HostScheduler {
    /// A class, so the scheduler changes a host where it lies: a struct copied out of the dictionary would
    /// make every append copy the host's whole queue.
    final class Host {
        var queue: [FetchJob] = []
        var head = 0
        var active = 0
        /// Transfers released from `active` because the server has not answered them (`release`).
        var silent = 0
        var concurrency: Int
        var nextStart: Double = 0
        var minimumInterval: Double
        var robots: RobotsState = .unknown
        /// Whether the host's key is in the round-robin list (so it is never there twice).
        var inTurn = false

        init(concurrency: Int, minimumInterval: Double) {
            self.concurrency = concurrency
            self.minimumInterval = minimumInterval
        }

        var waiting: Int { queue.count - head }
    }

    enum RobotsState {
        case unknown, fetching, ready(RobotsRules)
        /// robots.txt could not be fetched: RFC 9309 says to stay off the host.
        case unavailable(String)
    }

    enum Decision {
        case start(FetchJob)
        /// robots.txt forbids this job (or could not be read): it is out of the queue and must be reported
        /// with this reason, not fetched.
        case refused(FetchJob, reason: Reason, message: String)
    }

    let perHostConnections: Int
    let minimumInterval: Double
    let respectRobots: Bool
    private var hosts: [String: Host] = [:]
    private var turn: [String] = []       // hosts with waiting jobs, in round-robin order
    private var turnIndex = 0
    private(set) var queued = 0
    private var finishedSinceSweep = 0

    init(perHostConnections: Int, requestsPerSecond: Double?, respectRobots: Bool) {
        self.perHostConnections = perHostConnections
        minimumInterval = requestsPerSecond.map { 1 / $0 } ?? 0
        self.respectRobots = respectRobots
    }

    private mutating func host(_ key: String) -> Host {
        if let known = hosts[key] { return known }
        let host = Host(concurrency: perHostConnections, minimumInterval: minimumInterval)
        hosts[key] = host
        return host
    }

    mutating func enqueue(_ job: FetchJob) {
        let host = host(job.host)
        if !host.inTurn {
            turn.append(job.host)
            host.inTurn = true
        }
        host.queue.append(job)
        queued += 1
    }

    /// The next job that may start now, in host round-robin order. A host whose robots.txt is unknown first
    /// yields a robots job; its other jobs wait until the rules are in.
    mutating func next(now: Double) -> Decision? {
        var checked = 0
        while checked < turn.count {
            if turnIndex >= turn.count { turnIndex = 0 }
            let key = turn[turnIndex]
            guard let host = hosts[key], host.waiting > 0 else {
                turn.remove(at: turnIndex)
                if let host = hosts[key] {
                    host.inTurn = false
                    if isSettled(host, now: now) { hosts[key] = nil }
                }
                continue
            }
            turnIndex += 1
            checked += 1
            guard host.active < host.concurrency, host.nextStart <= now else { continue }
            if respectRobots {
                switch host.robots {
                case .unknown:
                    host.robots = .fetching
                    return .start(started(FetchJob(url: RobotsRules.robotsURL(for: host.queue[host.head].url), label: nil,
                                                   kind: .robots), host, now))
                case .fetching:
                    continue
                case .ready(let rules):
                    if !rules.allows(host.queue[host.head].url) {
                        return .refused(pop(host), reason: .fetch(.robotsDisallowed), message: "the host's robots.txt disallows this URL")
                    }
                case .unavailable(let why):
                    return .refused(pop(host), reason: .fetch(.robotsUnavailable),
                                    message: "the host's robots.txt could not be read (\(why)), so RFC 9309 says to stay off; --retry-failed tries again")
                }
            }
            return .start(started(pop(host), host, now))
        }
        return nil
    }

    private func started(_ job: FetchJob, _ host: Host, _ now: Double) -> FetchJob {
        host.active += 1
        host.nextStart = now + host.minimumInterval
        return job
    }

    /// A robots job retried after a failure starts outside the queue (the queue waits for its answer).
    mutating func startRobotsRetry(_ job: FetchJob, now: Double) -> FetchJob {
        started(job, host(job.host), now)
    }

    private mutating func pop(_ host: Host) -> FetchJob {
        let job = host.queue[host.head]
        host.head += 1
        if host.head == host.queue.count {
            host.queue = []  // drained: free it (a host may be kept for its robots rules or pacing)
            host.head = 0
        } else if host.head > 256 && host.head * 2 > host.queue.count {
            host.queue.removeFirst(host.head)
            host.head = 0
        }
        queued -= 1
        return job
    }

    /// A transfer the server has not answered by its first-byte deadline stops counting against the host's
    /// limit, so a few URLs that never answer cannot hold all of a host's slots while its other URLs wait (at
    /// most as many as the limit: a host never has more than twice its limit of connections). False when the
    /// host has no room for another silent one.
    mutating func release(_ job: FetchJob) -> Bool {
        guard let host = hosts[job.host], host.silent < perHostConnections else { return false }
        host.active -= 1
        host.silent += 1
        return true
    }

    /// `pauseUntil`: the host asked to wait (429/503 Retry-After): pause it and halve its concurrency.
    /// `released`: the transfer was released from the host's limit (`release`).
    mutating func finished(_ job: FetchJob, succeeded: Bool, pauseUntil: Double? = nil, released: Bool = false, now: Double) {
        let key = job.host
        guard let host = hosts[key] else { return }
        if released { host.silent -= 1 } else { host.active -= 1 }
        if let pauseUntil {
            host.nextStart = max(host.nextStart, pauseUntil)
            host.concurrency = max(1, host.concurrency / 2)
        } else if succeeded && host.concurrency < perHostConnections {
            host.concurrency += 1
        }
        if isSettled(host, now: now) { hosts[key] = nil }
        // Hosts still pacing (--rate) when their last transfer ended are forgotten later, in a sweep.
        finishedSinceSweep += 1
        if finishedSinceSweep >= 10_000 {
            finishedSinceSweep = 0
            hosts = hosts.filter { !isSettled($0.value, now: now) }
        }
    }

    /// Nothing to remember: no jobs, no transfers, no pause or pacing pending, full concurrency, and no
    /// robots rules to keep. Forgetting such hosts keeps a million one-off hosts cheap.
    private func isSettled(_ host: Host, now: Double) -> Bool {
        host.waiting == 0 && host.active == 0 && host.silent == 0 && host.nextStart <= now && host.concurrency == perHostConnections
            && !host.inTurn && !respectRobots
    }

    mutating func setRobots(_ state: RobotsState, for key: String) {
        let host = host(key)
        host.robots = state
        if case .ready(let rules) = state, let delay = rules.crawlDelay {
            host.minimumInterval = max(host.minimumInterval, min(delay, 60))
        }
    }

    /// The earliest time a waiting host may start again (to bound the poll timeout).
    func nextStartTime() -> Double? {
        turn.compactMap { key in
            hosts[key].flatMap { $0.waiting > 0 && $0.active < $0.concurrency ? $0.nextStart : nil }
        }.min()
    }
}
