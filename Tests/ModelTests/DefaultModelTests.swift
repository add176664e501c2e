import Foundation
import XCTest

@testable import Engine

/// Where the model comes from: a model the user named is that model, found or not; the shipped ones otherwise.
final class DefaultModelTests: XCTestCase {
    func testAPlansModelIsTakenAsNamedEvenWhenMissing() throws {
        let folder = try temporaryFolder("mavin-model")
        // A shipped model beside the folder, which the plan's missing one must not fall back to.
        let models = folder.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        try Data("weights".utf8).write(to: models.appendingPathComponent(DefaultModel.names[0]))
        let binary = folder.appendingPathComponent("bin/mavin")
        let named = try DefaultModel.locateWithReason(
            explicit: nil, plan: folder.appendingPathComponent("nomodel.safetensors").path, near: folder.path,
            environment: [:], executable: binary)
        XCTAssertEqual(named.url.lastPathComponent, "nomodel.safetensors")
        XCTAssertEqual(named.why, "the plan's model")
        // What compose and the Studio are told: the plan's own model is missing, not a file somewhere.
        var plan = Plan(clips: [])
        plan.model = "nomodel.safetensors"
        XCTAssertThrowsError(try DefaultModel.locate(explicit: nil, for: plan, in: folder.path, environment: [:])) {
            XCTAssertTrue(
                "\($0)".hasPrefix("the plan's model '\(folder.path)/nomodel.safetensors' does not exist"), "\($0)")
        }
        // $MAVIN_MODEL comes before the plan's.
        let fromEnv = try DefaultModel.locateWithReason(
            explicit: nil, plan: "nomodel.safetensors", near: folder.path, environment: ["MAVIN_MODEL": "/x.st"],
            executable: binary)
        XCTAssertEqual(fromEnv.url.path, "/x.st")
        // Without a named model, one that exists is found (here ./Samples/models or the one beside the folder).
        let shipped = try DefaultModel.locateWithReason(
            explicit: nil, plan: nil, near: folder.path, environment: [:], executable: binary)
        XCTAssertEqual(shipped.url.lastPathComponent, DefaultModel.names[0])
        XCTAssertTrue(FileManager.default.fileExists(atPath: shipped.url.path))
    }
}
