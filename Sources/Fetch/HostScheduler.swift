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
        var concurrency: Int
        var nextStart: Double = 0
        var minimumInterval: Double
        var robots: RobotsState = .unknown

        init(concurrency: Int, minimumInterval: Double) {
            self.concurrency = concurrency
            self.minimumInterval = minimumInterval
        }

        var waiting: Int { queue.count - head }
    }

    enum RobotsState {
        case unknown, fetching, ready(RobotsRules)
    }

    enum Decision {
        case start(FetchJob)
        /// robots.txt forbids this job: it is out of the queue and must be reported, not fetched.
        case disallowed(FetchJob)
    }

    let perHostConnections: Int
    let minimumInterval: Double
    let respectRobots: Bool
    private var hosts: [String: Host] = [:]
    private var turn: [String] = []       // hosts with waiting jobs, in round-robin order
    private var turnIndex = 0
    private(set) var queued = 0

    init(perHostConnections: Int, requestsPerSecond: Double?, respectRobots: Bool) {
        self.perHostConnections = perHostConnections
        minimumInterval = requestsPerSecond.map { 1 / $0 } ?? 0
        self.respectRobots = respectRobots
    }

    private func newHost() -> Host { Host(concurrency: perHostConnections, minimumInterval: minimumInterval) }

    mutating func enqueue(_ job: FetchJob) {
        let key = job.host
        let host: Host
        if let known = hosts[key] {
            host = known
        } else {
            host = newHost()
            hosts[key] = host
        }
        if host.waiting == 0 { turn.append(key) }
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
                continue
            }
            turnIndex += 1
            checked += 1
            guard host.active < host.concurrency, host.nextStart <= now else { continue }
            if respectRobots {
                switch host.robots {
                case .unknown:
                    host.robots = .fetching
                    host.active += 1
                    host.nextStart = now + host.minimumInterval
                    return .start(FetchJob(url: RobotsRules.robotsURL(for: host.queue[host.head].url), label: nil, kind: .robots))
                case .fetching:
                    continue
                case .ready(let rules):
                    if !rules.allows(host.queue[host.head].url) { return .disallowed(pop(host)) }
                }
            }
            let job = pop(host)
            host.active += 1
            host.nextStart = now + host.minimumInterval
            return .start(job)
        }
        return nil
    }

    private mutating func pop(_ host: Host) -> FetchJob {
        let job = host.queue[host.head]
        host.head += 1
        if host.head > 256 && host.head * 2 > host.queue.count {
            host.queue.removeFirst(host.head)
            host.head = 0
        }
        queued -= 1
        return job
    }

    mutating func finished(_ job: FetchJob, succeeded: Bool, now: Double) {
        let key = job.host
        guard let host = hosts[key] else { return }
        host.active -= 1
        if succeeded && host.concurrency < perHostConnections { host.concurrency += 1 }
        // Forget idle hosts with nothing to remember, so a million one-off hosts cost nothing.
        let settled = host.waiting == 0 && host.active == 0 && host.nextStart <= now && host.concurrency == perHostConnections
        if settled, !respectRobots { hosts[key] = nil }
    }

    /// The host asked us to wait (429/503): pause it and halve its concurrency.
    func backOff(_ key: String, until time: Double) {
        guard let host = hosts[key] else { return }
        host.nextStart = max(host.nextStart, time)
        host.concurrency = max(1, host.concurrency / 2)
    }

    mutating func setRobots(_ rules: RobotsRules, for key: String) {
        let host = hosts[key] ?? newHost()
        host.robots = .ready(rules)
        if let delay = rules.crawlDelay { host.minimumInterval = max(host.minimumInterval, min(delay, 60)) }
        hosts[key] = host
    }

    /// The earliest time a waiting host may start again (to bound the poll timeout).
    func nextStartTime() -> Double? {
        turn.compactMap { key in
            hosts[key].flatMap { $0.waiting > 0 && $0.active < $0.concurrency ? $0.nextStart : nil }
        }.min()
    }
}
