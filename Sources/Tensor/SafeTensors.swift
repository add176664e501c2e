import Core
import Foundation

/// Errors reading or writing a safetensors file; each names the problem precisely.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    case tooShort(String)
    case badHeaderLength(String, UInt64, fileSize: Int)
    case badHeader(String, reason: String)
    case unsupportedDType(String, tensor: String, dtype: String)
    case badTensor(String, tensor: String, reason: String)
    case missingTensor(String)
    case shapeMismatch(String, expected: [Int], found: [Int])
    case nonFinite(String)

    public var description: String {
        switch self {
        case .tooShort(let p): return "'\(p)' is too short to be a safetensors file (truncated?)"
        case .badHeaderLength(let p, let n, let size):
            return "'\(p)': header length \(n) does not fit in a \(size)-byte file (truncated or not safetensors)"
        case .badHeader(let p, let r): return "'\(p)': header is not valid safetensors JSON (\(r))"
        case .unsupportedDType(let p, let t, let d):
            return "'\(p)': tensor '\(t)' has dtype \(d); F32, F16 and BF16 are supported"
        case .badTensor(let p, let t, let r): return "'\(p)': tensor '\(t)' \(r)"
        case .missingTensor(let t): return "checkpoint has no tensor '\(t)' (is it for another model?)"
        case .shapeMismatch(let t, let e, let f): return "tensor '\(t)' has shape \(f), the model expects \(e)"
        case .nonFinite(let t): return "tensor '\(t)' contains NaN or infinite values; refusing to load it"
        }
    }
}

/// A parsed safetensors file (https://github.com/huggingface/safetensors format):
/// u64 little-endian header length, a JSON header, then the raw tensor bytes.
public struct SafeTensorsFile {
    public struct Info: Equatable, Sendable {
        public var dtype: String
        public var shape: [Int]
        public var begin: Int
        public var end: Int
    }

    public let path: String
    public let metadata: [String: String]
    public let tensors: [String: Info]
    private let data: Data
    private let dataStart: Int

    /// The largest header we accept (real headers are kilobytes).
    public static let maxHeaderBytes = 64 << 20

    public init(url: URL) throws {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw FileError.writeFailed(path, reason: "no such file")
        }
        let data = try Data(contentsOf: url, options: .mappedIfSafe)
        try self.init(data: data, path: path)
    }

    public init(data: Data, path: String = "<memory>") throws {
        self.path = path
        self.data = data
        guard data.count >= 8 else { throw SafeTensorsError.tooShort(path) }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(data[data.startIndex + i]) << (8 * UInt64(i)) }
        guard n >= 2, n <= UInt64(Self.maxHeaderBytes), n <= UInt64(data.count - 8) else {
            throw SafeTensorsError.badHeaderLength(path, n, fileSize: data.count)
        }
        let headerBytes = data[(data.startIndex + 8)..<(data.startIndex + 8 + Int(n))]
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: headerBytes) } catch {
            throw SafeTensorsError.badHeader(path, reason: "not JSON")
        }
        guard let object = json as? [String: Any] else {
            throw SafeTensorsError.badHeader(path, reason: "not a JSON object")
        }
        dataStart = 8 + Int(n)
        let byteCount = data.count - dataStart
        var metadata: [String: String] = [:]
        var tensors: [String: Info] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw SafeTensorsError.badHeader(path, reason: "__metadata__ is not an object")
                }
                for (k, v) in m {
                    guard let s = v as? String else {
                        throw SafeTensorsError.badHeader(path, reason: "__metadata__['\(k)'] is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard let d = value as? [String: Any], let dtype = d["dtype"] as? String,
                let shapeAny = d["shape"] as? [Any], let offsAny = d["data_offsets"] as? [Any], offsAny.count == 2
            else {
                throw SafeTensorsError.badTensor(path, tensor: name, reason: "lacks dtype, shape or data_offsets")
            }
            let width: Int
            switch dtype {
            case "F32": width = 4
            case "F16", "BF16": width = 2
            default: throw SafeTensorsError.unsupportedDType(path, tensor: name, dtype: dtype)
            }
            var shape: [Int] = []
            var elements = 1
            for s in shapeAny {
                guard let k = (s as? NSNumber)?.intValue, k >= 0, k <= Int(Int32.max) else {
                    throw SafeTensorsError.badTensor(path, tensor: name, reason: "has an invalid shape \(shapeAny)")
                }
                let (p, overflow) = elements.multipliedReportingOverflow(by: k)
                guard !overflow, p <= byteCount else {
                    throw SafeTensorsError.badTensor(
                        path, tensor: name, reason: "shape \(shapeAny) is larger than the file")
                }
                elements = p
                shape.append(k)
            }
            guard let b = (offsAny[0] as? NSNumber)?.intValue, let e = (offsAny[1] as? NSNumber)?.intValue,
                b >= 0, e >= b, e <= byteCount
            else {
                throw SafeTensorsError.badTensor(
                    path, tensor: name, reason: "has data_offsets \(offsAny) outside the \(byteCount) data bytes")
            }
            guard e - b == elements * width else {
                throw SafeTensorsError.badTensor(
                    path, tensor: name, reason: "has \(e - b) bytes for shape \(shape) of \(dtype)")
            }
            tensors[name] = Info(dtype: dtype, shape: shape, begin: b, end: e)
        }
        // Tensors may not overlap.
        let spans = tensors.values.filter { $0.end > $0.begin }.sorted { $0.begin < $1.begin }
        for i in stride(from: 1, to: spans.count, by: 1) where spans[i].begin < spans[i - 1].end {
            throw SafeTensorsError.badHeader(path, reason: "tensor byte ranges overlap")
        }
        self.metadata = metadata
        self.tensors = tensors
    }

    public func tensor(_ name: String) -> Info? { tensors[name] }

    /// The tensor's values as Float (F16 and BF16 are widened).
    public func floats(_ name: String) throws -> [Float] {
        guard let t = tensors[name] else { throw SafeTensorsError.missingTensor(name) }
        let n = t.shape.reduce(1, *)
        var out = [Float](repeating: 0, count: n)
        data.withUnsafeBytes { raw in
            let base = raw.baseAddress! + dataStart + t.begin
            switch t.dtype {
            case "F32":
                for i in 0..<n {
                    out[i] = Float(
                        bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
            case "BF16":
                for i in 0..<n {
                    out[i] = Float(
                        bitPattern: UInt32(
                            UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
                }
            default:
                for i in 0..<n {
                    out[i] = Float(
                        Float16(
                            bitPattern: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                        ))
                }
            }
        }
        return out
    }

    public func tensorValue(_ name: String) throws -> Tensor {
        guard let t = tensors[name] else { throw SafeTensorsError.missingTensor(name) }
        return Tensor(shape: t.shape, data: try floats(name))
    }

    /// Serialises F32 tensors (views, then values, in the order given) with string metadata.
    public static func serialize(
        _ views: [(String, [Int], UnsafePointer<Float>)], values: [(String, Tensor)] = [],
        metadata: [String: String] = [:]
    ) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let shapes = views.map { ($0.0, $0.1) } + values.map { ($0.0, $0.1.shape) }
        for (name, shape) in shapes {
            let bytes = shape.reduce(1, *) * 4
            header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(json)
        func append(_ p: UnsafePointer<Float>, _ count: Int) {
            #if _endian(little)
                out.append(UnsafeBufferPointer(start: p, count: count))
            #else
                for i in 0..<count {
                    var b = p[i].bitPattern.littleEndian
                    withUnsafeBytes(of: &b) { out.append(contentsOf: $0) }
                }
            #endif
        }
        for (_, shape, p) in views { append(p, shape.reduce(1, *)) }
        for (_, t) in values { t.data.withUnsafeBufferPointer { if let b = $0.baseAddress { append(b, t.count) } } }
        return out
    }

    public static func serialize(_ tensors: [(String, Tensor)], metadata: [String: String] = [:]) throws -> Data {
        try serialize([], values: tensors, metadata: metadata)
    }

    public static func write(
        _ tensors: [(String, [Int], UnsafePointer<Float>)], metadata: [String: String] = [:], to url: URL,
        overwrite: Bool
    ) throws {
        try AtomicOutput.write(try serialize(tensors, metadata: metadata), to: url, overwrite: overwrite)
    }

    public static func write(
        _ tensors: [(String, Tensor)], metadata: [String: String] = [:], to url: URL, overwrite: Bool
    ) throws {
        try AtomicOutput.write(try serialize(tensors, metadata: metadata), to: url, overwrite: overwrite)
    }
}
