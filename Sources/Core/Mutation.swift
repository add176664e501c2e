import Foundation

/// Damage done to a file's bytes, as a fuzzer does it: the same seed gives the same damage, so a failing case
/// can be replayed from the seed the fuzz run printed.
public enum Mutation: Sendable, CustomStringConvertible {
    /// Keep only the first `length` bytes.
    case truncate(length: Int)
    /// XOR these bytes with these masks.
    case flip([(offset: Int, mask: UInt8)])
    /// Overwrite bytes at an offset (a header field: a size, a count, a type).
    case overwrite(offset: Int, bytes: [UInt8])
    /// Remove a span of bytes.
    case cut(offset: Int, length: Int)
    /// Repeat a span of bytes in place.
    case duplicate(offset: Int, length: Int)

    public var description: String {
        switch self {
        case .truncate(let n): return "truncate to \(n) bytes"
        case .flip(let f): return "flip \(f.count) bytes at \(f.prefix(4).map(\.offset))…"
        case .overwrite(let o, let b): return "overwrite \(b.count) bytes at \(o)"
        case .cut(let o, let n): return "cut \(n) bytes at \(o)"
        case .duplicate(let o, let n): return "duplicate \(n) bytes at \(o)"
        }
    }

    public func apply(to data: [UInt8]) -> [UInt8] {
        var out = data
        switch self {
        case .truncate(let n): out = Array(data.prefix(n))
        case .flip(let flips):
            for f in flips where f.offset < out.count { out[f.offset] ^= f.mask }
        case .overwrite(let o, let b):
            for (i, v) in b.enumerated() where o + i < out.count { out[o + i] = v }
        case .cut(let o, let n):
            let start = min(o, out.count)
            out.removeSubrange(start..<min(out.count, start + n))
        case .duplicate(let o, let n):
            let start = min(o, out.count)
            out.insert(contentsOf: data[start..<min(data.count, start + n)], at: start)
        }
        return out
    }

    /// A random mutation of a file of `size` bytes; `header` bytes at the start are hit more often, and
    /// `fields` (offsets of known size and count fields) are overwritten with extreme values.
    public static func random(size: Int, header: Int, fields: [Int] = [], using rng: inout SplitMix64) -> Mutation {
        let size = max(1, size)
        let near = { (rng: inout SplitMix64) -> Int in
            let span = Bool.random(using: &rng) ? min(size, max(1, header)) : size
            return Int.random(in: 0..<span, using: &rng)
        }
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: return .truncate(length: Int.random(in: 0..<size, using: &rng))
        case 1:
            let n = Int.random(in: 1...16, using: &rng)
            return .flip((0..<n).map { _ in (near(&rng), UInt8.random(in: 1...255, using: &rng)) })
        case 2:
            let extremes: [[UInt8]] = [
                [0, 0, 0, 0], [0xFF, 0xFF, 0xFF, 0xFF], [0x7F, 0xFF, 0xFF, 0xFF],
                [0x80, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0x10, 0],
                [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]
            ]
            let at = fields.isEmpty || Bool.random(using: &rng) ? near(&rng) : fields.randomElement(using: &rng)!
            return .overwrite(offset: at, bytes: extremes.randomElement(using: &rng)!)
        case 3: return .cut(offset: near(&rng), length: Int.random(in: 1...max(1, size / 8), using: &rng))
        case 4: return .duplicate(offset: near(&rng), length: Int.random(in: 1...max(1, size / 8), using: &rng))
        default:
            // Digits in a text header (safetensors JSON): a shape or an offset becomes another number.
            let digits: [UInt8] = Array("0123456789-9e99".utf8)
            return .overwrite(
                offset: near(&rng),
                bytes: (0..<Int.random(in: 1...6, using: &rng)).map { _ in
                    digits.randomElement(using: &rng)!
                })
        }
    }

    /// Offsets of the size and type fields of an MP4's boxes (top level and one level down).
    public static func mp4BoxFields(_ data: [UInt8]) -> [Int] {
        var fields: [Int] = []
        func walk(_ start: Int, _ end: Int, depth: Int) {
            var at = start
            while at + 8 <= end {
                let size = data[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) }
                fields += [at, at + 4]
                let type = String(decoding: data[(at + 4)..<(at + 8)], as: UTF8.self)
                if depth < 2, ["moov", "trak", "mdia", "minf", "stbl"].contains(type) {
                    walk(at + 8, min(end, at + size), depth: depth + 1)
                }
                guard size >= 8 else { break }
                at += size
            }
        }
        walk(0, data.count, depth: 0)
        return fields
    }
}
