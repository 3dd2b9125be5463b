/// Runs the pickle virtual machine over `bytes` with the restrictions `PickleValue` describes.
///
/// What keeps a hostile pickle from crashing or hanging the reader: every opcode consumes at least one byte, so
/// a pickle ends or fails within its length; containers are values, so nothing can contain itself (the memo keeps
/// what a container was when it was stored, which is all a state dict needs); nesting is limited (deep values
/// would overflow the stack when freed); and the work of growing containers is budgeted against the length.
struct PickleReader {
    struct Limits {
        var stack = 1 << 20
        var memo = 1 << 22
        var marks = 1 << 16
        /// A state dict nests about 5 levels deep.
        var depth = 32
    }

    /// A value on the stack or in the memo, with how deeply it nests.
    private struct Entry {
        var value: PickleValue
        var depth: Int
    }

    private let bytes: [UInt8]
    private let start: Int
    private var position: Int
    /// Every tensor the pickle rebuilt, wherever it sits in the object (a legacy file lists their storages).
    private var tensors: [TensorReference] = []
    private let limits: Limits
    private var stack: [Entry] = []
    private var marks: [Int] = []
    private var memo: [Int: Entry] = [:]
    /// Elements copied or scanned while growing containers; bounded by a multiple of the pickle's length.
    private var work = 0

    /// Reads one pickle starting at `start`; `end` is where it stopped (after its STOP opcode).
    static func read(_ bytes: [UInt8], from start: Int = 0, limits: Limits = Limits())
        throws(PickleError) -> (value: PickleValue, end: Int, tensors: [TensorReference]) {
        var reader = PickleReader(bytes: bytes, start: start, limits: limits)
        let value = try reader.run()
        return (value, reader.position, reader.tensors)
    }

    private init(bytes: [UInt8], start: Int, limits: Limits) {
        self.bytes = bytes
        (self.start, self.position) = (start, start)
        self.limits = limits
    }

    private func failure(_ problem: String, at offset: Int? = nil) -> PickleError {
        PickleError(offset: offset ?? position, problem: problem)
    }

    // MARK: Reading arguments

    private mutating func take(_ count: Int) throws(PickleError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - position else {
            throw failure("the pickle ends inside an argument (\(count) bytes wanted, \(bytes.count - position) left)")
        }
        defer { position += count }
        return bytes[position..<position + count]
    }

    private mutating func byte() throws(PickleError) -> UInt8 { try take(1).first! }

    private mutating func littleEndian(_ count: Int) throws(PickleError) -> UInt64 {
        try take(count).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    private mutating func line() throws(PickleError) -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw failure("a text argument has no end of line") }
        let text = String(decoding: bytes[position..<end], as: UTF8.self)
        position = end + 1
        return text
    }

    private mutating func utf8(_ count: Int) throws(PickleError) -> String {
        let start = position
        let raw = try take(count)
        guard let text = String(validating: raw, as: UTF8.self) else { throw failure("a string is not valid UTF-8", at: start) }
        return text
    }

    // MARK: The stack

    /// Pushes a scalar (depth 0).
    private mutating func push(_ value: PickleValue) throws(PickleError) {
        try push(Entry(value: value, depth: 0))
    }

    private mutating func push(_ entry: Entry) throws(PickleError) {
        guard stack.count < limits.stack else { throw failure("the pickle's stack grows past \(limits.stack) values") }
        guard entry.depth <= limits.depth else { throw failure("values nest more than \(limits.depth) levels deep") }
        stack.append(entry)
    }

    /// Pushes a container built from `children`.
    private mutating func push(_ value: PickleValue, containing children: [Entry]) throws(PickleError) {
        try push(Entry(value: value, depth: 1 + (children.map(\.depth).max() ?? 0)))
    }

    private mutating func popEntry() throws(PickleError) -> Entry {
        guard stack.count > (marks.last ?? 0), let entry = stack.popLast() else { throw failure("an opcode pops from an empty stack") }
        return entry
    }

    private mutating func pop() throws(PickleError) -> PickleValue { try popEntry().value }

    /// The entries above the topmost mark, which is removed.
    private mutating func popToMark() throws(PickleError) -> [Entry] {
        guard let mark = marks.popLast() else { throw failure("an opcode needs a MARK that is not there") }
        defer { stack.removeSubrange(mark...) }
        return Array(stack[mark...])
    }

    private mutating func remember(_ index: Int) throws(PickleError) {
        guard let top = stack.last else { throw failure("PUT with an empty stack") }
        guard memo.count < limits.memo || memo[index] != nil else { throw failure("the memo grows past \(limits.memo) entries") }
        memo[index] = top
    }

    private mutating func recall(_ index: Int) throws(PickleError) {
        guard let entry = memo[index] else { throw failure("GET of memo entry \(index), which was never stored") }
        try push(entry)
    }

    /// Adds `children` to the container at the top of the stack.
    private mutating func updateTop(adding children: [Entry], _ change: (inout PickleValue) throws(PickleError) -> Void) throws(PickleError) {
        guard stack.count > (marks.last ?? 0), var top = stack.popLast() else { throw failure("an opcode adds to a missing container") }
        work += children.count + 16
        if case .list(let items) = top.value { work += items.count }
        if case .dict(let items) = top.value { work += items.count }
        guard work <= 64 * (position - start) + (1 << 20) else { throw failure("growing containers takes more work than a pickle this long can need") }
        try change(&top.value)
        top.depth = max(top.depth, 1 + (children.map(\.depth).max() ?? 0))
        try push(top)
    }

    // MARK: The machine

    private mutating func run() throws(PickleError) -> PickleValue {
        while true {
            let offset = position
            let opcode = try byte()
            switch opcode {
            case 0x80:  // PROTO
                let version = try byte()
                guard version <= 5 else { throw failure("pickle protocol \(version) is not known", at: offset) }
            case 0x95: _ = try take(8)  // FRAME: a length hint
            case 0x2E:  // STOP
                guard marks.isEmpty, stack.count == 1 else { throw failure("STOP with \(stack.count) values on the stack", at: offset) }
                return stack[0].value
            case 0x28:  // MARK
                guard marks.count < limits.marks else { throw failure("more than \(limits.marks) open MARKs", at: offset) }
                marks.append(stack.count)
            case 0x4E: try push(.none)
            case 0x88: try push(.bool(true))
            case 0x89: try push(.bool(false))
            case 0x4A: try push(.int(Int64(Int32(bitPattern: UInt32(try littleEndian(4))))))  // BININT
            case 0x4B: try push(.int(Int64(try byte())))  // BININT1
            case 0x4D: try push(.int(Int64(try littleEndian(2))))  // BININT2
            case 0x8A: try push(try long(Int(try byte()), at: offset))  // LONG1
            case 0x8B:  // LONG4
                let count = Int(Int32(bitPattern: UInt32(try littleEndian(4))))
                try push(try long(count, at: offset))
            case 0x47:  // BINFLOAT: big-endian
                try push(.float(Double(bitPattern: try take(8).reduce(0) { $0 << 8 | UInt64($1) })))
            case 0x58: try push(.string(try utf8(Int(try littleEndian(4)))))  // BINUNICODE
            case 0x8C: try push(.string(try utf8(Int(try byte()))))  // SHORT_BINUNICODE
            case 0x8D: try push(.string(try utf8(try length64(at: offset))))  // BINUNICODE8
            case 0x42: try push(.bytes(Array(try take(Int(try littleEndian(4))))))  // BINBYTES
            case 0x43: try push(.bytes(Array(try take(Int(try byte())))))  // SHORT_BINBYTES
            case 0x8E: try push(.bytes(Array(try take(try length64(at: offset)))))  // BINBYTES8
            case 0x29: try push(.tuple([]))  // EMPTY_TUPLE
            case 0x85, 0x86, 0x87:  // TUPLE1, TUPLE2, TUPLE3
                var items: [Entry] = []
                for _ in 0..<Int(opcode - 0x84) { items.insert(try popEntry(), at: 0) }
                try push(.tuple(items.map(\.value)), containing: items)
            case 0x74:  // TUPLE
                let items = try popToMark()
                try push(.tuple(items.map(\.value)), containing: items)
            case 0x5D: try push(.list([]))  // EMPTY_LIST
            case 0x6C:  // LIST
                let items = try popToMark()
                try push(.list(items.map(\.value)), containing: items)
            case 0x7D: try push(.dict([]))  // EMPTY_DICT
            case 0x64:  // DICT
                let items = try popToMark()
                try push(.dict(try pairs(items.map(\.value), at: offset)), containing: items)
            case 0x61: try append([try popEntry()], at: offset)  // APPEND
            case 0x65: try append(try popToMark(), at: offset)  // APPENDS
            case 0x73:  // SETITEM
                let value = try popEntry(), key = try popEntry()
                try setItems([key, value], at: offset)
            case 0x75: try setItems(try popToMark(), at: offset)  // SETITEMS
            case 0x71: try remember(Int(try byte()))  // BINPUT
            case 0x72: try remember(Int(try littleEndian(4)))  // LONG_BINPUT
            case 0x94: try remember(memo.count)  // MEMOIZE
            case 0x68: try recall(Int(try byte()))  // BINGET
            case 0x6A: try recall(Int(try littleEndian(4)))  // LONG_BINGET
            case 0x63:  // GLOBAL: "module\nname\n"
                let module = try line(), name = try line()
                try push(.global(try accepted(module: module, name: name, at: offset)))
            case 0x93:  // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
                    throw failure("STACK_GLOBAL without two strings", at: offset)
                }
                try push(.global(try accepted(module: module, name: name, at: offset)))
            case 0x51:  // BINPERSID
                let id = try popEntry()
                try push(.persistent(id.value), containing: [id])
            case 0x52:  // REDUCE
                let arguments = try pop(), callable = try pop()
                let result = try reduce(callable, arguments, at: offset)
                if case .tensor(let tensor) = result { tensors.append(tensor) }
                try push(result)
            case 0x62:  // BUILD: an OrderedDict's attributes (`_metadata`) are kept nowhere
                let state = try pop()
                guard case .dict = stack.last?.value, case .dict = state else {
                    throw failure("BUILD is accepted only to set a dict's attributes", at: offset)
                }
            default:
                throw failure("opcode 0x\(String(opcode, radix: 16)) is not one a state dict needs (it may build objects or call code); refusing the file", at: offset)
            }
        }
    }

    private mutating func length64(at offset: Int) throws(PickleError) -> Int {
        let length = try littleEndian(8)
        guard length <= UInt64(bytes.count) else { throw failure("a length of \(length) bytes is past the end", at: offset) }
        return Int(length)
    }

    /// A little-endian two's-complement integer of `count` bytes; wider than 64 bits only when it fits (the
    /// legacy header's magic number is 80 bits wide, and is compared as bytes instead).
    private mutating func long(_ count: Int, at offset: Int) throws(PickleError) -> PickleValue {
        guard count >= 0 else { throw failure("a negative integer length", at: offset) }
        let raw = Array(try take(count))
        guard count <= 8 else { return .bytes(raw) }
        guard count > 0 else { return .int(0) }
        var value = raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if count < 8, raw.last! & 0x80 != 0 { value |= ~UInt64(0) << (8 * count) }  // sign-extend
        return .int(Int64(bitPattern: value))
    }

    private func accepted(module: String, name: String, at offset: Int) throws(PickleError) -> PickleGlobal {
        guard let global = PickleGlobal(module: module, name: name) else {
            throw failure("the pickle names the global \(module).\(name), which a weights file never needs; refusing it (nothing was run)", at: offset)
        }
        return global
    }

    private func pairs(_ items: [PickleValue], at offset: Int) throws(PickleError) -> [(PickleValue, PickleValue)] {
        guard items.count % 2 == 0 else { throw failure("an odd number of items for a dict", at: offset) }
        return stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) }
    }

    private mutating func append(_ values: [Entry], at offset: Int) throws(PickleError) {
        let notAList = failure("APPEND to something that is not a list", at: offset)
        try updateTop(adding: values) { top throws(PickleError) in
            guard case .list(let items) = top else { throw notAList }
            top = .list(items + values.map(\.value))
        }
    }

    /// Adds key-value pairs; a repeated key is kept twice, and readers of the dict take the last one (as Python's
    /// assignment would leave it).
    private mutating func setItems(_ entries: [Entry], at offset: Int) throws(PickleError) {
        let new = try pairs(entries.map(\.value), at: offset)
        let notADict = failure("SETITEM on something that is not a dict", at: offset)
        try updateTop(adding: entries) { top throws(PickleError) in
            guard case .dict(let items) = top else { throw notADict }
            top = .dict(items + new)
        }
    }

    /// The two calls a state dict makes, interpreted: nothing is ever called.
    private func reduce(_ callable: PickleValue, _ arguments: PickleValue, at offset: Int) throws(PickleError) -> PickleValue {
        guard case .tuple(let args) = arguments else { throw failure("REDUCE without an argument tuple", at: offset) }
        switch callable {
        case .global(.orderedDict):
            guard args.isEmpty else { throw failure("OrderedDict() with arguments", at: offset) }
            return .dict([])
        case .global(.rebuildTensor):
            let tensor = try TensorReference(rebuilding: args, at: offset)
            return .tensor(tensor)
        default:
            throw failure("REDUCE of something other than OrderedDict or _rebuild_tensor_v2", at: offset)
        }
    }
}

extension TensorReference {
    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`,
    /// the storage being the persistent id `('storage', <type>, key, location, numel[, view])`.
    init(rebuilding args: [PickleValue], at offset: Int) throws(PickleError) {
        func fail(_ problem: String) -> PickleError { PickleError(offset: offset, problem: "_rebuild_tensor_v2: \(problem)") }
        guard args.count >= 4, case .persistent(.tuple(let id)) = args[0] else { throw fail("its first argument is not a storage") }
        guard id.count >= 5, case .string("storage") = id[0], case .global(.storage(let type)) = id[1],
              case .string(let key) = id[2], case .int(let numel) = id[4], numel >= 0, numel < 1 << 40 else {
            throw fail("the storage id is not ('storage', <type>, key, location, numel)")
        }
        if id.count > 5, id[5] != .none { throw fail("storage views (legacy view metadata) are not supported") }
        guard case .int(let start) = args[1], start >= 0, start < 1 << 40 else { throw fail("the storage offset is not a small non-negative integer") }
        func integers(_ value: PickleValue, _ what: String) throws(PickleError) -> [Int] {
            guard case .tuple(let items) = value else { throw fail("its \(what) is not a tuple") }
            var result: [Int] = []
            for item in items {
                guard case .int(let n) = item, n >= 0, n < 1 << 40 else { throw fail("its \(what) holds something other than a small non-negative integer") }
                result.append(Int(n))
            }
            return result
        }
        let shape = try integers(args[2], "size"), strides = try integers(args[3], "stride")
        guard shape.count == strides.count, shape.count <= 8 else { throw fail("\(shape.count) sizes for \(strides.count) strides") }
        // The last element the view reaches must lie inside the storage, and the view may not hold more elements
        // than the storage (a broadcast view would let a few bytes claim terabytes).
        var reach = Int(start)
        var elements = 1
        for (size, stride) in zip(shape, strides) {
            let (product, overflow) = size.multipliedReportingOverflow(by: elements)
            guard !overflow, product < 1 << 40 else { throw fail("the tensor is too large") }
            elements = product
            if size > 0 {
                let (step, stepOverflow) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, sumOverflow) = reach.addingReportingOverflow(step)
                guard !stepOverflow, !sumOverflow else { throw fail("the view's strides reach past any storage") }
                reach = sum
            }
        }
        guard elements == 0 || reach < numel else { throw fail("the view reaches element \(reach) of a storage of \(numel)") }
        guard elements <= max(numel, 1) else { throw fail("a view of \(elements) elements over a storage of \(numel)") }
        self.init(storageKey: key, elementType: type, storageElements: Int(numel), offset: Int(start), shape: shape, strides: strides)
    }
}
