import Core
import Diffusion
import Foundation
import Tensor

/// Why a checkpoint could not be used, in words a user can act on.
public enum CheckpointError: Error, CustomStringConvertible {
    case notAMavinCheckpoint(String, reason: String)
    case badConfig(String, reason: String)
    case unreadable(String, underlying: String)

    public var description: String {
        switch self {
        case .notAMavinCheckpoint(let p, let r):
            return
                "'\(p)' is not a Mavin model checkpoint (\(r)); train one with `mavin train` or use "
                + "Samples/models/mavin-motion.safetensors"
        case .badConfig(let p, let r): return "'\(p)': the model config in the file is invalid (\(r))"
        case .unreadable(let p, let u): return FileError.readFailed(p, reason: u).description
        }
    }
}

/// A model ready to run: network weights, codec and config, from one safetensors file.
public final class MavinModel {
    public let network: MavinUNet
    /// The PCA codec of a pixel-space model; nil for a motion-space one (its latents are flows).
    public let codec: LatentCodec?
    public var config: ModelConfig { network.config }
    /// Training steps behind these weights.
    public var step: Int
    public var provenance: [String: String]

    public init(network: MavinUNet, codec: LatentCodec?, step: Int = 0, provenance: [String: String] = [:]) {
        self.network = network
        self.codec = codec
        self.step = step
        self.provenance = provenance
    }

    static let format = "mavin-1"

    func metadata() -> [String: String] {
        var m = provenance
        m["mavin.format"] = Self.format
        m["mavin.config"] = config.json()
        m["mavin.step"] = String(step)
        m["mavin.parameters"] = String(network.parameterCount)
        return m
    }

    func codecTensors() -> [(String, Tensor)] {
        guard let codec else { return [] }
        return [
            ("codec.basis", Tensor(shape: [codec.components, codec.blockSize], data: codec.basis)),
            ("codec.mean", Tensor(shape: [codec.blockSize], data: codec.mean)),
            ("codec.scale", Tensor(shape: [1], data: [codec.scale]))
        ]
    }

    /// Writes the weights in `buffer` (the EMA average by default) with codec and config.
    public func save(to url: URL, buffer: ParameterStore.Buffer = .ema, overwrite: Bool) throws {
        let data = try SafeTensorsFile.serialize(
            network.store.tensors(buffer), values: codecTensors(), metadata: metadata())
        try AtomicOutput.write(data, to: url, overwrite: overwrite)
    }

    /// Reads a checkpoint, validating format, config, shapes and values.
    public static func load(_ url: URL) throws -> MavinModel {
        let path = url.path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw CheckpointError.unreadable(path, underlying: "no such file")
        }
        guard !isDir.boolValue else {
            throw CheckpointError.unreadable(path, underlying: "it is a folder; name a .safetensors checkpoint")
        }
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(url: url) } catch {
            // Foundation's own file errors in words (they print as `Error Domain=…`).
            let reason = FileProblem.isFoundationError(error) ? FileProblem.reason(error) : "\(error)"
            throw CheckpointError.notAMavinCheckpoint(path, reason: reason)
        }
        return try load(file, path: path)
    }

    static func load(_ file: SafeTensorsFile, path: String) throws -> MavinModel {
        guard file.metadata["mavin.format"] == format, let json = file.metadata["mavin.config"] else {
            throw CheckpointError.notAMavinCheckpoint(path, reason: "no mavin.format/mavin.config metadata")
        }
        let config: ModelConfig
        do { config = try JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8)) } catch {
            throw CheckpointError.badConfig(path, reason: "\(error)")
        }
        if let problem = config.validate() { throw CheckpointError.badConfig(path, reason: problem) }
        // Refuse absurd sizes before allocating anything.
        guard config.resolution <= 1024, config.frames <= 128, config.channels.allSatisfy({ $0 <= 1024 }),
            config.embeddingDim <= 4096, (config.contextDim ?? 0) <= 4096
        else {
            throw CheckpointError.badConfig(path, reason: "sizes beyond what this program runs")
        }
        let net = MavinUNet(config: config)
        do {
            try net.store.load(file)
        } catch {
            throw CheckpointError.notAMavinCheckpoint(path, reason: "\(error)")
        }
        net.store.syncEMA()
        let codec = config.latentSpace == .motion ? nil : try readCodec(file, config: config, path: path)
        var provenance = file.metadata
        for k in ["mavin.format", "mavin.config", "mavin.step", "mavin.parameters"] { provenance[k] = nil }
        return MavinModel(
            network: net, codec: codec, step: Int(file.metadata["mavin.step"] ?? "0") ?? 0, provenance: provenance)
    }

    static func readCodec(_ file: SafeTensorsFile, config: ModelConfig, path: String) throws -> LatentCodec {
        let d = 3 * config.codecPatch * config.codecPatch
        let basis = try file.floats("codec.basis")
        let mean = try file.floats("codec.mean")
        let scale = try file.floats("codec.scale")
        guard basis.count == config.latentChannels * d, mean.count == d, scale.count == 1, scale[0].isFinite,
            scale[0] > 0,
            basis.allSatisfy(\.isFinite), mean.allSatisfy(\.isFinite)
        else {
            throw CheckpointError.notAMavinCheckpoint(
                path, reason: "codec tensors have the wrong shape or invalid values")
        }
        return LatentCodec(
            patch: config.codecPatch, components: config.latentChannels, basis: basis, mean: mean,
            scale: scale[0])
    }
}
