import Core
import Foundation
import XCTest
@testable import MavinModel
@testable import Tensor

/// Damaged checkpoints (truncated, flipped bytes, edited header numbers) load as a valid model or fail in words.
final class CheckpointFuzzTests: XCTestCase {
    func testDamagedCheckpointsNeverCrashTheLoader() throws {
        let env = ProcessInfo.processInfo.environment
        let cases = env["MAVIN_FUZZ_CASES"].flatMap(Int.init) ?? 150
        let seed = env["MAVIN_FUZZ_SEED"].flatMap(UInt64.init) ?? 15
        let folder = try temporaryFolder("mavin-fuzz")
        let url = folder.appendingPathComponent("tiny.safetensors")
        try untrainedTinyModel().save(to: url, overwrite: false)
        let original = [UInt8](try Data(contentsOf: url))
        let headerLength = original.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        var loaded = 0
        let start = Date()
        for k in 0..<cases {
            var rng = SplitMix64(seed: seed &* 104_729 &+ UInt64(k))
            // Half the damage lands in the 8-byte length and the JSON header, where the loader parses.
            let mutation = Mutation.random(size: original.count, header: 8 + headerLength, fields: [0, 4], using: &rng)
            let damaged = folder.appendingPathComponent("case.safetensors")
            try Data(mutation.apply(to: original)).write(to: damaged)
            let label = "case \(k) (seed \(seed)): \(mutation)"
            do {
                let model = try MavinModel.load(damaged)
                loaded += 1
                XCTAssertNil(model.config.validate(), label)
                let store = model.network.store
                XCTAssertTrue((0..<store.count).allSatisfy { store.values[$0].isFinite }, label)
            } catch let error as CheckpointError {
                XCTAssertFalse("\(error)".isEmpty, label)
            } catch {
                XCTFail("\(label): an untyped error \(error)")
            }
        }
        print(
            "checkpoint fuzz: \(cases) cases from seed \(seed): \(loaded) loaded, \(cases - loaded) refused, "
                + "\(String(format: "%.1f", Date().timeIntervalSince(start))) s")
    }
}
