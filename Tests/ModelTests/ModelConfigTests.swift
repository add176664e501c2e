import Foundation
import XCTest
@testable import MavinModel
@testable import Tensor

/// Nonsense configs (a hand-edited or damaged checkpoint) are refused in words, never by a division by zero.
final class ModelConfigValidationTests: XCTestCase {
    func nonsense() -> [(String, ModelConfig)] {
        let base = ModelConfig.preset("tiny")!
        var cases: [(String, ModelConfig)] = []
        func add(_ label: String, _ edit: (inout ModelConfig) -> Void) {
            var c = base
            edit(&c)
            cases.append((label, c))
        }
        add("heads 0") { $0.heads = 0 }
        add("heads -4") { $0.heads = -4 }
        add("codecPatch 0") { $0.codecPatch = 0 }
        add("codecPatch -8") { $0.codecPatch = -8 }
        add("boundaryPatch 0") { $0.boundaryPatch = 0 }
        add("resolution 0") { $0.resolution = 0 }
        add("resolution -32") { $0.resolution = -32 }
        add("frames 0") { $0.frames = 0 }
        add("frames -8") { $0.frames = -8 }
        add("latentChannels 0") { $0.latentChannels = 0 }
        add("channels negative") { $0.channels = [-32, -32] }
        add("channels 0") { $0.channels = [0, 32] }
        add("channels one level") { $0.channels = [32] }
        add("channels GroupNorm") { $0.channels = [48, 48] }
        add("embeddingDim 0") { $0.embeddingDim = 0 }
        add("contextDim 0") { $0.contextDim = 0 }
        add("residualScale NaN") { $0.residualScale = .nan }
        return cases
    }

    func testEveryNonsenseConfigHasAMessage() {
        XCTAssertNil(ModelConfig.preset("tiny")!.validate())
        XCTAssertNil(ModelConfig.preset("small")!.validate())
        for (label, config) in nonsense() {
            XCTAssertNotNil(config.validate(), label)
        }
        var zeroHeads = ModelConfig.preset("tiny")!
        zeroHeads.heads = 0
        XCTAssertEqual(zeroHeads.validate(), "heads is 0; it must be a positive whole number")
    }

    func testACheckpointWithANonsenseConfigIsRefusedByTheLoader() throws {
        let folder = try temporaryFolder("mavin-config")
        for (label, config) in nonsense() {
            let url = folder.appendingPathComponent("bad.safetensors")
            let metadata = ["mavin.format": MavinModel.format, "mavin.config": config.json()]
            try SafeTensorsFile.serialize([], metadata: metadata).write(to: url)
            XCTAssertThrowsError(try MavinModel.load(url), label) { error in
                XCTAssertTrue("\(error)".contains("the model config in the file is invalid"), "\(label): \(error)")
            }
        }
    }
}
