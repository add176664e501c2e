import Core
import Foundation
import XCTest
@testable import Engine
@testable import MavinModel
@testable import Media
@testable import Synth

/// The one job runner: events in order ending in exactly one final event, one job at a time, cancellation that
/// stops real work (an infill's steps, an evaluation's cases).
final class JobRunnerTests: XCTestCase {
    /// Collects a job's events; `final` is signalled by the final one.
    final class Recorder: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var events: [JobEvent] = []
        let final = DispatchSemaphore(value: 0)
        var onEvent: (@Sendable (JobEvent) -> Void)?
        var sink: @Sendable (JobEvent) -> Void {
            { [self] e in
                lock.lock()
                events.append(e)
                let hook = onEvent
                lock.unlock()
                hook?(e)
                if e.isFinal { final.signal() }
            }
        }
        var snapshot: [JobEvent] {
            lock.lock()
            defer { lock.unlock() }
            return events
        }
    }

    func request(steps: Int) -> (Infiller, InfillRequest) {
        let infiller = Infiller(model: untrainedTinyModel())
        let length = infiller.allowedLengths.lowerBound
        let a = RGBImage(width: 32, height: 32, fill: (200, 40, 40))
        let b = RGBImage(width: 32, height: 32, fill: (40, 40, 200))
        var r = InfillRequest(before: [a, a], after: [b, b], length: length)
        r.settings.steps = steps
        r.settings.eta = 0
        return (infiller, r)
    }

    func testInfillEventsComeInOrderAndEndInOneFinishedEqualToADirectRun() async throws {
        let (infiller, req) = request(steps: 4)
        let direct = try infiller.run(req)
        let runner = JobRunner()
        let rec = Recorder()
        try await runner.start(InfillJob(infiller: infiller, request: req), events: rec.sink)
        XCTAssertEqual(rec.final.wait(timeout: .now() + 60), .success)
        let events = rec.snapshot
        let steps = events.compactMap { e -> Int? in
            if case .progress(_, let step, let total, _) = e, total == 4 { return step }
            return nil
        }
        XCTAssertEqual(steps, [1, 2, 3, 4])
        XCTAssertEqual(events.filter(\.isFinal).count, 1)
        guard case .finished(.infill(let result)) = try XCTUnwrap(events.last) else {
            return XCTFail("last event: \(String(describing: events.last))")
        }
        XCTAssertEqual(result.frames.count, direct.frames.count)
        for (x, y) in zip(result.frames, direct.frames) { XCTAssertEqual(x.pixels, y.pixels) }
        let idle = await runner.current
        XCTAssertNil(idle)
    }

    func testASecondJobIsRefusedWhileOneRunsAndCancelStopsTheSteps() async throws {
        let (infiller, req) = request(steps: 400)
        let runner = JobRunner()
        let rec = Recorder()
        let started = DispatchSemaphore(value: 0)
        rec.onEvent = { e in if case .progress(_, 1, _, _) = e { started.signal() } }
        try await runner.start(InfillJob(infiller: infiller, request: req), events: rec.sink)
        XCTAssertEqual(started.wait(timeout: .now() + 60), .success)
        do {
            try await runner.start(InfillJob(infiller: infiller, request: req)) { _ in }
            XCTFail("a second job started while one runs")
        } catch JobRunner.RunnerError.busy(let title) {
            XCTAssertEqual(title, "infill")
        }
        await runner.cancel()
        XCTAssertEqual(rec.final.wait(timeout: .now() + 60), .success)
        let events = rec.snapshot
        guard case .cancelled = try XCTUnwrap(events.last) else {
            return XCTFail("last event: \(String(describing: events.last))")
        }
        let done = events.compactMap { e -> Int? in
            if case .progress(_, let step, _, _) = e { return step }
            return nil
        }
        XCTAssertLessThan(done.max() ?? 0, 400, "cancel stopped the denoising before its last step")
        // Free again once the final event is out: the next job starts.
        let next = Recorder()
        let (small, quick) = request(steps: 1)
        try await runner.start(InfillJob(infiller: small, request: quick), events: next.sink)
        XCTAssertEqual(next.final.wait(timeout: .now() + 60), .success)
    }

    func testAnEvaluationCancelledAfterItsFirstCaseStopsBeforeTheSecond() throws {
        let folder = try temporaryFolder("mavin-jobs")
        var entries: [ManifestEntry] = []
        for k in 0..<3 {
            let p = Performance(seed: UInt64(500 + k), fps: 15, script: [(.walk, 2), (.rear, 2)])
            entries.append(try SynthWriter.write(p, name: "take\(k)", size: 64, to: folder, overwrite: false))
        }
        try SynthWriter.writeManifest(entries, to: folder, overwrite: false)
        let cases = try Evaluator.syntheticCases(folder: folder.path, length: 6, references: 2)
        XCTAssertGreaterThanOrEqual(cases.count, 3)
        let evaluator = Evaluator(cases: cases, resolution: 32, references: 2)
        let job = EvalJob(evaluator: evaluator, methods: [.baseline(.crossfade), .baseline(.repeatFrames)], title: "t")
        // Uncancelled, every case is scored.
        guard case .evaluated(let full) = try JobRunner.runToEnd(job) else { return XCTFail("no report") }
        XCTAssertEqual(full.cases, cases.count)
        let cancel = CancelFlag()
        let seen = Recorder()
        seen.onEvent = { e in if case .progress("case", 1, _, _) = e { cancel.cancel() } }
        XCTAssertThrowsError(try JobRunner.runToEnd(job, cancel: cancel, events: seen.sink)) { error in
            XCTAssertEqual(error as? EngineError, .cancelled)
        }
        let finished = seen.snapshot.compactMap { e -> Int? in
            if case .progress("case", let i, _, _) = e { return i }
            return nil
        }
        XCTAssertEqual(finished, [1])
    }
}
