// DashboardPage: the dashboard's one self-contained HTML page (inline CSS; the script is in DashboardPage+Script).

/// `GET /`: a page with no outside resources (no CDN, no fonts) that polls the JSON endpoints every 2 s and
/// redraws itself without reloading: the sweep's line, the cells table, learning curves, the verdict table and the
/// report's figures. Opened as `/?token=…`, it sends the token on its own requests (`Authorization: Bearer`).
public enum DashboardPage {
    /// The whole page.
    public static var html: String { head + body + "<script>\n" + script + "\n</script>\n</body>\n</html>\n" }

    static let head = #"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>ablate dashboard</title>
        <style>
        :root { --fg: #1d2330; --muted: #5b6475; --line: #d9dee7; --bg: #f6f7fa; --card: #fff; --accent: #2f6fdf; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
          background: var(--bg); }
        main { max-width: 1400px; margin: 0 auto; padding: 16px 20px 40px; }
        header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 18px; margin-bottom: 12px; }
        h1 { font-size: 20px; margin: 0; }
        h2 { font-size: 15px; margin: 0 0 8px; }
        .muted { color: var(--muted); }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px;
          margin-bottom: 14px; min-width: 0; }
        .sweepline { font-size: 15px; }
        .sweepline b { font-variant-numeric: tabular-nums; }
        .bar { height: 8px; background: #e7ebf2; border-radius: 4px; overflow: hidden; margin-top: 8px; }
        .bar > div { height: 100%; background: var(--accent); width: 0; transition: width .4s; }
        .scroll { overflow-x: auto; max-width: 100%; }
        .tall { max-height: 460px; overflow-y: auto; }
        table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
        th, td { text-align: left; padding: 4px 10px 4px 0; border-bottom: 1px solid #eef1f5; white-space: nowrap; }
        th { position: sticky; top: 0; background: var(--card); color: var(--muted); font-weight: 600; }
        td.num, th.num { text-align: right; }
        td.wrap { white-space: normal; min-width: 260px; }
        .state { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; background: #eef1f5; }
        .state.running { background: #dfeafe; color: #1d4fb0; }
        .state.done { background: #def5e4; color: #1c6b34; }
        .state.failed { background: #fde2e1; color: #a4221b; }
        .verdict.better { color: #1c6b34; font-weight: 600; }
        .verdict.worse { color: #a4221b; font-weight: 600; }
        .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(400px, 1fr)); gap: 14px; }
        .chart svg { width: 100%; height: auto; display: block; }
        .legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; margin-top: 6px; }
        .legend span::before { content: ""; display: inline-block; width: 14px; height: 3px; margin-right: 5px;
          vertical-align: middle; background: var(--c); }
        #figures figure, #figures > svg { margin: 0 0 12px; max-width: 100%; overflow-x: auto; }
        #figures svg { max-width: 100%; height: auto; }
        .notes { margin: 6px 0 0; padding-left: 18px; color: var(--muted); }
        .empty { color: var(--muted); font-style: italic; }
        #conn.bad { color: #a4221b; }
        </style>
        </head>

        """#

    static let body = #"""
        <body data-polls="0">
        <main>
        <header>
          <h1>ablate · <span id="sweep">…</span></h1>
          <span class="muted">live dashboard (read-only), refreshed every 2 s · <span id="conn">connecting…</span></span>
        </header>
        <section class="card" id="summary-card">
          <div class="sweepline" id="sweepline">waiting for the first status…</div>
          <div class="bar"><div id="progress"></div></div>
          <ul class="notes" id="notes"></ul>
        </section>
        <section class="card">
          <h2>Cells</h2>
          <div class="scroll tall">
            <table id="cells">
              <thead><tr><th>variant</th><th>seed</th><th>stage</th><th>state</th><th>worker</th>
                <th class="num">epoch</th><th class="num">best</th><th class="num">last</th>
                <th class="num">train loss</th><th class="num">ETA</th></tr></thead>
              <tbody></tbody>
            </table>
          </div>
        </section>
        <section class="grid">
          <div class="card chart"><h2 id="metric-title">Validation metric per epoch</h2><div id="chart-metric"></div>
            <div class="legend" id="legend-metric"></div></div>
          <div class="card chart"><h2>Training loss per epoch</h2><div id="chart-loss"></div>
            <div class="legend" id="legend-loss"></div></div>
        </section>
        <section class="card">
          <h2>Verdicts <span class="muted" id="report-time"></span></h2>
          <div class="scroll"><table id="verdicts">
            <thead><tr><th>variant</th><th class="num">seeds</th><th class="num" id="delta-head">Δ</th>
              <th class="num">interval</th><th class="num">p (Holm)</th><th>verdict</th><th>reading</th></tr></thead>
            <tbody><tr><td class="empty" colspan="7">no report yet (written when the first cells finish)</td></tr></tbody>
          </table></div>
        </section>
        <section class="card">
          <h2>Report figures <a class="muted" id="report-link" href="report.html">(full report)</a></h2>
          <div id="figures"><p class="empty">no report yet</p></div>
        </section>
        </main>

        """#
}
