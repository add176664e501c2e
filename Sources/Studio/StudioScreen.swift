import CNcurses
import CCursesShim
import Core
import Engine
import Foundation
import Media
import Metrics

/// Drawing and the key loop of the Studio.
extension StudioApp {
    static let minimumSize = (cols: 60, rows: 18)

    func setUpColours() {
        guard has_colors() else { return }
        start_color()
        use_default_colors()
        let c = theme.colours
        func pair(_ p: ColourPair, _ fg: String, _ bg: String? = nil) {
            init_pair(p.rawValue, c[fg] ?? -1, bg.flatMap { c[$0] } ?? -1)
        }
        pair(.header, "header_fg", "header_bg")
        pair(.selected, "selected_fg", "selected_bg")
        pair(.title, "title")
        pair(.focus, "focus")
        pair(.accent, "accent")
        pair(.error, "error")
        pair(.progress, "progress")
        pair(.dim, "dim")
    }

    /// Cells for an image `rows` high at its true aspect ratio, from the measured cell size.
    func columns(for img: RGBImage?, rows: Int) -> Int {
        Self.columns(width: img?.width ?? 1, height: img?.height ?? 1, rows: rows, cellAspect: caps.cellAspect)
    }

    /// Columns that show a width×height picture `rows` cells high without stretching it.
    static func columns(width: Int, height: Int, rows: Int, cellAspect: Double) -> Int {
        max(2, Int((Double(rows) * cellAspect * Double(width) / Double(max(1, height))).rounded()))
    }

    /// Rows that fit a width×height picture into `cols` columns without stretching it.
    func rows(for img: RGBImage?, cols: Int) -> Int {
        let w = Double(img?.width ?? 1)
        let h = Double(img?.height ?? 1)
        return Int(Double(cols) * h / (w * caps.cellAspect))
    }

    /// Places an image on a cell rectangle of the screen (drawn after the text), or ASCII shades as text.
    func picture(_ img: RGBImage?, row: Int, col: Int, cols: Int, rows: Int, on screen: inout Screen) {
        guard let img, cols > 1, rows > 0 else { return }
        if caps.pictures == .ascii {
            for (i, line) in Pictures.ascii(img, cols: cols, rows: rows).enumerated() {
                screen.put(row + i, col, line, width: cols)
            }
        } else {
            screen.pictures.append(Placement(rect: CellRect(row: row, col: col, cols: cols, rows: rows), image: img))
        }
    }

    /// The screen for the state as it is now, laid out for `size`: text runs and picture placements.
    /// Reads the state (and the thumbnail cache); decodes no truth and measures nothing.
    func draw() -> Screen {
        let H = size.rows
        let W = size.cols
        var screen = Screen(cols: W, rows: H, unicode: caps.unicode)
        if W < Self.minimumSize.cols || H < Self.minimumSize.rows {
            screen.put(0, 0, "Terminal too small (\(W)×\(H)).", width: W, .error, bold: true)
            screen.put(
                1, 0,
                "Mavin Studio needs at least \(Self.minimumSize.cols)×\(Self.minimumSize.rows); enlarge it or press q.",
                width: W)
            return screen
        }
        screen.put(
            0, 0, " Mavin Studio — \(folder) — \(modelNote) — pictures: \(caps.pictures.rawValue)", width: W, .header,
            bold: true, reverse: false)
        // A message longer than the screen is wide takes up to two more lines, from the panes above it: they and
        // the job panel are laid out in the first B rows. A question has the status and key rows, and takes more
        // the same way: all of it is read before y or n.
        let status: [String]
        var question: [String] = []
        switch mode {
        case .command: status = []
        case .confirm(let prompt, _):
            status = []
            question = Self.wrapped(Glyphs.text(prompt, unicode: screen.unicode), width: W, lines: 3)
        default: status = Self.wrapped(Glyphs.text(message, unicode: screen.unicode), width: W, lines: 3)
        }
        let B = H - max(0, status.count - 1, question.count - 2)
        let leftW = max(28, W / 3)
        let rightX = leftW + 1
        let rightW = W - rightX
        let libH = max(5, (B - 6) / 2)
        drawLibrary(y: 1, x: 0, w: leftW, h: libH, on: &screen)
        drawSequence(y: 1 + libH, x: 0, w: leftW, h: B - 5 - libH, on: &screen)
        let inspH = min(14, max(9, (B - 6) / 2))
        drawJunction(y: 1, x: rightX, w: rightW, h: inspH, on: &screen)
        drawPreview(y: 1 + inspH, x: rightX, w: rightW, h: B - 5 - inspH, on: &screen)
        drawJob(y: B - 4, w: W, on: &screen)
        switch mode {
        case .command(let line):
            screen.put(H - 1, 0, ":" + line, width: W, .focus, bold: true)
            screen.cursor = (H - 1, min(W - 1, line.count + 1))
        case .confirm:
            for (i, line) in question.enumerated() {
                screen.put(H - question.count + i, 0, line, width: W, .error, bold: true, reverse: true)
            }
        default:
            for (i, line) in status.enumerated() { screen.put(B - 2 + i, 0, line, width: W, .accent) }
            screen.put(
                H - 1, 0, " " + KeyMap.hints(for: keyContext, mode: mode.keyContext, bigSteps: field.movesByPress),
                width: W, .dim, reverse: true)
        }
        if case .help(let scroll) = mode { drawHelp(W: W, H: H, scroll: scroll, on: &screen) }
        return screen
    }

    /// Where keys are looked up after the mode's: the focused pane's bindings.
    var keyContext: KeyContext {
        switch focus {
        case .library: return .library
        case .sequence: return .sequence
        case .junction: return .junction
        case .preview: return .preview
        }
    }

    /// `text` in at most `lines` lines of `width` cells, broken at spaces (a word longer than a line is cut where
    /// the line ends); the last line keeps the rest, for `Screen.put` to cut with "…".
    static func wrapped(_ text: String, width: Int, lines: Int) -> [String] {
        var out: [String] = []
        var rest = Substring(text)
        while rest.count > width && out.count < lines - 1 {
            // The last space within the width + 1 first cells ends a line that fits; without one, the width does.
            let space = rest.prefix(width + 1).lastIndex(of: " ").flatMap { $0 > rest.startIndex ? $0 : nil }
            let end = space ?? rest.index(rest.startIndex, offsetBy: width)
            out.append(String(rest[..<end]))
            rest = rest[end...].drop { $0 == " " }
        }
        return out + [String(rest)]
    }

    func drawLibrary(y: Int, x: Int, w: Int, h: Int, on screen: inout Screen) {
        screen.put(y, x, " Library (\(clips.count))", width: w, focus == .library ? .focus : .title, bold: true)
        let first = max(0, librarySel - (h - 3))
        for (i, clip) in clips.enumerated().dropFirst(first).prefix(h - 2) {
            let row = y + 1 + i - first
            let text: String
            if let info = clip.info {
                text =
                    " \(clip.name)  \(info.frames)f \(String(format: "%.0f", info.fps))fps "
                    + "\(info.width)×\(info.height) \(String(format: "%.1f", info.duration))s"
            } else {
                text = " \(clip.name)  ✗ \(clip.error ?? "")"
            }
            screen.put(
                row, x, text, width: w,
                i == librarySel && focus == .library ? .selected : (clip.info == nil ? .error : nil),
                reverse: i == librarySel && focus != .library)
        }
    }

    func drawSequence(y: Int, x: Int, w: Int, h: Int, on screen: inout Screen) {
        screen.put(
            y, x, " Sequence (\(counted(plan.clips.count, "clip")))", width: w, focus == .sequence ? .focus : .title,
            bold: true)
        var row = y + 1
        for (i, c) in plan.clips.enumerated() {
            if row >= y + h { break }
            screen.put(
                row, x, " \(i + 1). \(c.path)", width: w, i == sequenceSel && focus == .sequence ? .selected : nil)
            row += 1
            if i < plan.junctions.count && row < y + h {
                let j = plan.junctions[i]
                let (s, e) = boundaries(i)
                let done = result(i) != nil ? " ✓" : ""
                screen.put(row, x, "    ╰─ s=\(s) e=\(e) l=\(j.length) \(j.mode.rawValue)\(done)", width: w, .dim)
                row += 1
            }
        }
        if plan.clips.isEmpty { screen.put(y + 1, x, " (empty: select a clip and press a)", width: w, .dim) }
    }

    func drawJunction(y: Int, x: Int, w: Int, h: Int, on screen: inout Screen) {
        guard let j = selectedJunction else {
            screen.put(y, x, " Junction", width: w, .title, bold: true)
            screen.put(y + 1, x, " Add two clips to the sequence to make a transition.", width: w, .dim)
            return
        }
        let a = plan.clips[j].path
        let b = plan.clips[j + 1].path
        let (s, e) = boundaries(j)
        screen.put(
            y, x, " Junction \(j + 1): \(a) [s=\(s)] → \(b) [e=\(e)]", width: w, focus == .junction ? .focus : .title,
            bold: true)
        // Filmstrips: s−2 … s and e … e+2.
        let jn = plan.junctions[j]
        // The fields, wrapped into lines at the pane's width (measured as the terminal shows them: in ASCII "λ" is
        // written "lambda").
        var lines: [[(field: Field, cell: String, col: Int)]] = [[]]
        var col = x + 1
        for f in Field.allCases {
            let cell = Glyphs.text(" \(fieldLabel(f, of: jn, s: s, e: e)) ", unicode: screen.unicode)
            if col + cell.count >= x + w && !lines[lines.count - 1].isEmpty {
                col = x + 1
                lines.append([])
            }
            lines[lines.count - 1].append((f, cell, col))
            col += cell.count + 1
        }
        // Thumbnails at the clip's true aspect on the measured cell, as tall as the fields and a note line leave.
        var thumbH = max(2, min(5, h - 4 - lines.count, ((w - 4) / 6) / 2))
        while thumbH > 2 && 6 * (columns(for: frame(a, s), rows: thumbH) + 1) + 4 > w { thumbH -= 1 }
        // Six thumbnails and their gaps never run past the pane (they wrapped onto the next line at 60 columns).
        let thumbW = max(2, min(columns(for: frame(a, s), rows: thumbH) + 1, (w - 4) / 6))
        for k in 0..<3 {
            picture(
                frame(a, s - 2 + k), row: y + 1, col: x + 1 + k * thumbW, cols: thumbW - 1, rows: thumbH, on: &screen)
            picture(
                frame(b, e + k), row: y + 1, col: x + 3 + (3 + k) * thumbW, cols: thumbW - 1, rows: thumbH, on: &screen)
        }
        for (k, (before, after)) in zip(["s−2", "s−1", "s"], ["e", "e+1", "e+2"]).enumerated() {
            screen.put(y + 1 + thumbH, x + 1 + k * thumbW, before, width: thumbW - 1, .dim)
            screen.put(y + 1 + thumbH, x + 3 + (3 + k) * thumbW, after, width: thumbW - 1, .dim)
        }
        // Lines that do not fit scroll so that the selected field stays in view.
        let top = y + 2 + thumbH
        let room = max(1, y + h - 1 - top)
        let selectedLine = lines.firstIndex { line in line.contains { $0.field == field } } ?? 0
        let first = focus == .junction ? max(0, min(lines.count - room, selectedLine - room + 1)) : 0
        for (k, line) in lines[first..<min(lines.count, first + room)].enumerated() {
            for item in line {
                let style: ColourPair? =
                    focus == .junction && field == item.field
                    ? .selected : (inertReason(item.field, of: jn) != nil ? .dim : nil)
                screen.put(top + k, item.col, item.cell, width: item.cell.count, style)
            }
        }
        let noteRow = top + min(room, lines.count - first)
        if focus == .junction, let why = inertReason(field, of: jn) {
            screen.put(noteRow, x + 1, "\(field.setting.key): \(why)", width: w - 2, .dim)
        } else if focus == .junction, field == .length, let note = lengthNote(jn.length) {
            screen.put(noteRow, x + 1, note, width: w - 2, .dim)
        } else if hasTruth(j) {
            screen.put(noteRow, x + 1, "ground truth known: v compares", width: w - 2, .accent)
        }
    }

    /// A field as the inspector shows it; an unset setting shows what the loaded model makes of it.
    func fieldLabel(_ f: Field, of jn: Plan.Junction, s: Int, e: Int) -> String {
        let unset = effectiveValue(f)
        func number(_ v: Float?) -> String {
            v.map { String(format: "%g", $0) } ?? unset.flatMap(Float.init).map { String(format: "%g", $0) } ?? "–"
        }
        switch f {
        case .s: return "s \(s)"
        case .e: return "e \(e)"
        case .length: return "length \(jn.length)"
        case .mode: return "mode \(jn.mode.rawValue)"
        case .ease: return "ease \(number(jn.settings.timeSharpness))"
        case .easing: return "easing \(jn.settings.timeEasing?.rawValue ?? unset ?? "–")"
        case .carry: return "carry \(number(jn.settings.carry))"
        case .warp: return "warp \(jn.settings.warp?.rawValue ?? unset ?? "–")"
        case .strength: return String(format: "strength %.2f", jn.settings.strength)
        case .steps: return "steps \(jn.settings.steps)"
        case .f0: return String(format: "f0 %.2f", jn.settings.f0)
        case .lambda: return String(format: "λ %.2f", jn.settings.lambda)
        case .gfm: return "GFM \(jn.settings.gfm ? "on" : "off")"
        case .seed: return "seed \(jn.settings.seed)"
        }
    }

    func drawPreview(y: Int, x: Int, w: Int, h: Int, on screen: inout Screen) {
        let j = selectedJunction
        var title = " Preview"
        var left: RGBImage?
        var right: RGBImage?
        var caption = ""
        if case .stepThrough(let index, let noisy) = mode, let j, let r = result(j), !r.steps.isEmpty {
            let st = r.steps[min(index, r.steps.count - 1)]
            let shown = noisy ? st.noisy : st.predicted
            let f = max(0, min(frameIndex, shown.count - 1))
            title =
                " Step-through: step \(min(index, r.steps.count - 1) + 1)/\(r.steps.count) t=\(st.timestep)"
                + " \(noisy ? "noisy x_t" : "predicted x̂0"), frame \(f + 1)/\(shown.count)"
            left = shown.isEmpty ? nil : shown[f]
            caption = "[ ] steps  o x̂0/x_t  ( ) frames  Esc leave"
        } else if mode == .compare, let j, let r = result(j), let c = comparison(j), !c.truth.isEmpty {
            let f = max(0, min(frameIndex, r.frames.count - 1, c.truth.count - 1))
            left = r.frames[f]
            right = c.truth[f]
            title = " Compare: generated | truth — frame \(f + 1)/\(r.frames.count)"
            caption =
                String(format: "frame: PSNR %.2f dB SSIM %.3f", c.psnr[f], c.ssim[f])
                + (r.scores.map {
                    String(format: "   all: PSNR %.2f  MS-SSIM %.3f  CLIP-RS %.3f", $0.psnr, $0.ms_ssim, $0.clip_rs)
                } ?? "")
        } else if let job, !job.done, !job.preview.isEmpty {
            let f = frameIndex % job.preview.count
            left = job.preview[f]
            title = " Denoising: x̂0 at step \(job.step)/\(job.total), frame \(f + 1)/\(job.preview.count)"
        } else if focus == .library, librarySel < clips.count, let info = clips[librarySel].info {
            let f = frameIndex % max(1, info.frames)
            left = frame(clips[librarySel].name, f)
            title = " \(clips[librarySel].name) — frame \(f + 1)/\(info.frames)"
        } else if let j, let r = result(j), !r.frames.isEmpty {
            let f = frameIndex % r.frames.count
            left = r.frames[f]
            title = " Generated transition \(j + 1) — frame \(f + 1)/\(r.frames.count)"
        } else if sequenceSel < plan.clips.count {
            let name = plan.clips[sequenceSel].path
            let n = max(1, frames(of: name))
            left = frame(name, frameIndex % n)
            title = " \(name) — frame \(frameIndex % n + 1)/\(n)"
        }
        screen.put(y, x, title + (playing ? " ▶" : ""), width: w, focus == .preview ? .focus : .title, bold: true)
        let ph = max(2, h - 2)
        if let right {
            let rowsFit = min(ph, max(2, rows(for: left, cols: (w - 3) / 2)))
            let pw = columns(for: left, rows: rowsFit)
            picture(left, row: y + 1, col: x + 1, cols: pw, rows: rowsFit, on: &screen)
            picture(right, row: y + 1, col: x + 2 + pw, cols: pw, rows: rowsFit, on: &screen)
        } else {
            let rowsFit = min(ph, max(2, rows(for: left, cols: w - 2)))
            picture(
                left, row: y + 1, col: x + 1, cols: min(w - 2, columns(for: left, rows: rowsFit)), rows: rowsFit,
                on: &screen)
        }
        screen.put(y + h - 1, x + 1, caption, width: w - 2, .dim)
    }

    func drawJob(y: Int, w: Int, on screen: inout Screen) {
        guard let job else {
            screen.put(y, 0, " Job: idle", width: w, .dim)
            return
        }
        let barW = max(10, w / 3)
        let filled = job.total > 0 ? min(barW, barW * job.step / job.total) : 0
        let bar =
            String(repeating: theme.barFull, count: filled) + String(repeating: theme.barEmpty, count: barW - filled)
        var state: String
        switch job.state {
        case .running: state = "running"
        case .done: state = "done"
        case .cancelled: state = "cancelled"
        case .failed: state = "failed"
        }
        if !job.done { state += " t=\(job.timestep) eta \(formatDuration(job.eta))" }
        // Figures of a junction that has changed since are not the junction's: said, and dimmed.
        let outdated = isOutdated(job)
        if outdated { state += " (outdated: the junction changed)" }
        screen.put(y, 0, " \(job.kind): ", width: w, outdated ? .dim : .title)
        screen.put(
            y, min(w - 1, job.kind.count + 4), "\(bar) \(job.step)/\(job.total) \(state)",
            width: w - job.kind.count - 4, outdated ? .dim : .progress)
        // CLIP-RS against the truth when there is one; always the smoothness against the clips' own pace.
        let series = job.clipRS.isEmpty ? job.paceRS : job.clipRS
        guard let last = series.last else { return }
        let spark = theme.spark
        let pace = job.paceRS.last.map { String(format: " (pace vs clips %.3f)", $0) } ?? ""
        // An export measures every junction against the clips' pace alone, truth or not.
        let against: String
        switch job.purpose {
        case .transition: against = " (no truth)"
        case .export: against = ""
        }
        let label =
            job.clipRS.isEmpty
            ? String(format: " smoothness vs the clips' pace%@ %.3f ", against, last)
            : String(format: " CLIP-RS %.3f", last) + pace + " "
        let line = series.suffix(max(0, w - label.count - 1)).map { v -> Character in
            spark[max(0, min(spark.count - 1, Int(v * Double(spark.count - 1))))]
        }
        screen.put(y + 1, 0, label + String(line), width: w, outdated ? .dim : .accent)
    }

    /// The help overlay: the title stays, the key list scrolls (↑↓ / j k, PgUp PgDn) when it does not fit.
    func drawHelp(W: Int, H: Int, scroll: Int, on screen: inout Screen) {
        let entries = KeyMap.helpLines(unicode: screen.unicode)
        let title = Self.helpTitle
        let bw = min(W - 4, max(title.count, entries.map(\.count).max() ?? 40) + 4)
        let bh = min(H - 2, entries.count + 3)
        let x0 = (W - bw) / 2
        let y0 = (H - bh) / 2
        let visible = bh - 3
        let helpScroll = Self.clampedHelpScroll(scroll, rows: H)
        // Nothing of the panes shows beside the key list either, where it would read as part of it.
        for r in 1..<H { screen.put(r, 0, String(repeating: " ", count: W), width: W) }
        for r in 0..<bh { screen.put(y0 + r, x0, "", width: bw, .header, reverse: true) }
        screen.put(y0 + 1, x0 + 2, title, width: bw - 4, .header, bold: true)
        for (i, l) in entries.dropFirst(helpScroll).prefix(visible).enumerated() {
            screen.put(y0 + 2 + i, x0 + 2, l, width: bw - 4, .header)
        }
        if entries.count > visible {
            let more = helpScroll + visible < entries.count ? "↓ more (j/↓)" : "end of list (k/↑ back)"
            let where_ = "\(helpScroll + 1)–\(helpScroll + visible) of \(entries.count)"
            screen.put(y0 + bh - 1, x0 + 2, "\(where_)  \(more)", width: bw - 4, .header)
        }
        // Nothing shows through the overlay.
        screen.pictures.removeAll()
    }

    static let helpTitle = "Mavin Studio — keys (Esc or ? closes)"

    /// The help overlay's first line for a wished scroll on a screen `rows` high: never past the last page.
    static func clampedHelpScroll(_ scroll: Int, rows H: Int) -> Int {
        let entries = KeyMap.helpLines().count
        let visible = min(H - 2, entries + 3) - 3
        return max(0, min(scroll, entries - visible))
    }

    /// Paints a screen: the pictures' erase, then the text through ncurses, then the pictures. A frame
    /// equal to the last one (same text, same pictures) writes nothing.
    func present(_ screen: Screen) {
        let textChanged = screen.runs != lastRuns || repaintAll
        let out = pictures.update(screen.pictures, textChanged: textChanged, force: repaintAll)
        let full = repaintAll || out.clearScreen
        repaintAll = false
        lastRuns = screen.runs
        if !textChanged && out.isEmpty { return }
        // clear() makes the next refresh clear the terminal and repaint every cell (Ctrl-L, resize, focus).
        if full { clear() } else { erase() }
        for run in screen.runs {
            var attr: Int32 = 0
            if let pair = run.style.pair { attr |= mavin_color_pair(Int32(pair.rawValue)) }
            if run.style.bold { attr |= mavin_a_bold() }
            if run.style.reverse { attr |= mavin_a_reverse() }
            attron(attr)
            mvaddstr(Int32(run.row), Int32(run.col), run.text)
            attroff(attr)
        }
        if let cursor = screen.cursor {
            curs_set(1)
            move(Int32(cursor.row), Int32(cursor.col))
        } else {
            curs_set(0)
        }
        writeOut(out.before)
        refresh()
        writeOut(out.after)
    }

    /// Pixel escapes go through tmux wrapped in its passthrough DCS when that is on.
    func outer(_ escape: String) -> String { caps.tmuxPassthrough ? TmuxPassthrough.wrap(escape) : escape }

    func writeOut(_ text: String) {
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return write(1, base + done, buffer.count - done)
            }
            if n <= 0 { break }
            done += n
        }
    }

    /// Whether standard input's terminal has hung up or gone (poll's POLLHUP, POLLERR or POLLNVAL).
    static func terminalClosed() -> Bool {
        var p = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 0) >= 0 else { return false }
        return p.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0
    }

    /// Runs until q, or until Ctrl-C, SIGTERM or SIGHUP: then the terminal is restored and the plan autosaved, as
    /// with q, what a running job was writing is removed, and the process ends by that signal (status 128 + its
    /// number). Keys are polled every 50 ms, so a running job never blocks them.
    public func run() throws {
        let latch = SignalLatch()
        try session(until: latch)
        if let number = latch.caught { PartialFiles.endBySignal(number) }
    }

    private func session(until latch: SignalLatch) throws {
        setlocale(LC_ALL, "")
        initscr()
        defer { endwin() }
        cbreak()
        noecho()
        mavin_keypad_on()
        mavin_no_shifts()
        set_escdelay(25)
        timeout(50)
        curs_set(0)
        setUpColours()
        // Focus reports (tmux passes them on with `focus-events on`): a pane or window switch back repaints.
        define_key("\u{1B}[I", Self.focusInKey)
        define_key("\u{1B}[O", Self.focusOutKey)
        writeOut(Self.focusReportsOn)
        defer { writeOut(Self.focusReportsOff) }
        defer { if caps.pictures == .kitty { writeOut(outer(KittyGraphics.freeAll)) } }
        var lastPlay = Date()
        while !quitRequested && latch.caught == nil {
            drainEvents()
            if playing {
                let step = Self.playbackStep(elapsed: Date().timeIntervalSince(lastPlay), fps: previewFPS)
                if step.frames > 0 {
                    frameIndex += step.frames
                    lastPlay = lastPlay.addingTimeInterval(step.seconds)
                }
            } else {
                lastPlay = Date()
            }
            timeout(playing ? 10 : 50)
            size = (Int(mavin_cols()), Int(mavin_lines()))
            present(draw())
            let key = getch()
            // A terminal that went away without a SIGHUP (its parent kept the signal) answers at once, for ever:
            // end as the hang-up would have, instead of spinning.
            if key == ERR && Self.terminalClosed() { latch.keep(SIGHUP) }
            if key == ERR || key == Self.focusOutKey { continue }
            if key == KEY_RESIZE || key == Self.focusInKey {
                repaintAll = true
                continue
            }
            handle(key)
        }
        if let problem = autosave() {
            endwin()
            FileHandle.standardError.write(Data("mavin studio: \(problem)\n".utf8))
        }
    }

    /// A key, by mode: the command line takes text, a question takes y or anything else, help scrolls or
    /// closes; otherwise the key map decides.
    func handle(_ key: Int32) {
        switch mode {
        case .command(var line):
            switch key {
            case 27: mode = .browse
            case 10, KEY_ENTER:
                mode = .browse
                execute(line)
            case KEY_BACKSPACE, 127, 8:
                if !line.isEmpty { line.removeLast() }
                mode = .command(line)
            default:
                if key >= 32 && key < 127 {
                    line.append(Character(UnicodeScalar(UInt8(key))))
                    mode = .command(line)
                }
            }
            return
        case .confirm(_, let action):
            mode = .browse
            if key == Int32(UInt8(ascii: "y")) {
                confirmed(action)
            } else {
                message = action == .quit ? "still here; the job runs on" : "kept the existing file"
            }
            return
        case .help(let scroll):
            if let step = Self.helpScrollStep(key) {
                mode = .help(scroll: Self.clampedHelpScroll(scroll + step, rows: size.rows))
                return
            }
            let action = KeyMap.action(for: key, in: keyContext)
            // Any other key closes the overlay; q still quits and Ctrl-L still redraws.
            if let action, action == .quit || action == .redraw {
                perform(action)
            } else {
                mode = .browse
            }
            return
        default:
            guard let action = KeyMap.action(for: key, in: keyContext, mode: mode.keyContext) else {
                message = KeyMap.unbound(key)
                return
            }
            perform(action)
        }
    }
}

extension StudioApp {
    /// Key codes ncurses returns for the focus reports `ESC [ I` and `ESC [ O` (past KEY_MAX, user keys).
    static let focusInKey: Int32 = KEY_MAX + 1
    static let focusOutKey: Int32 = KEY_MAX + 2
    static let focusReportsOn = "\u{1B}[?1004h"
    static let focusReportsOff = "\u{1B}[?1004l"
}

extension StudioApp {
    /// Lines the help overlay scrolls for a key, nil for keys that do not scroll it.
    static func helpScrollStep(_ key: Int32) -> Int? {
        switch key {
        case KEY_DOWN, Int32(UInt8(ascii: "j")): return 1
        case KEY_UP, Int32(UInt8(ascii: "k")): return -1
        case KEY_NPAGE: return 10
        case KEY_PPAGE: return -10
        default: return nil
        }
    }
}

extension StudioApp {
    /// Frames due after `elapsed` seconds at `fps`, and the seconds they account for: playback keeps the
    /// clip's rate and skips frames when drawing cannot keep up (like timg), never runs slow.
    static func playbackStep(elapsed: Double, fps: Double) -> (frames: Int, seconds: Double) {
        let rate = fps.isFinite && fps > 0 ? fps : 25
        let frames = Int((elapsed * rate).rounded(.down))
        return (frames, Double(frames) / rate)
    }

    /// The frame rate of what the preview shows: the library clip, else the selected sequence clip.
    var previewFPS: Double {
        if focus == .library, librarySel < clips.count, let fps = clips[librarySel].info?.fps { return fps }
        if sequenceSel < plan.clips.count, let r = reader(plan.clips[sequenceSel].path) { return r.info.fps }
        return 25
    }
}
