namespace NexusCore.PerfApi.Console;

/// <summary>The console's one stylesheet, served by PerfApi at <see cref="ConsoleRoutes.Stylesheet"/> (no CDN, no web font: the system's sans-serif).</summary>
internal static class ConsoleStyles
{
    public const string Css = """
        :root { --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #ffffff; --panel: #f6f8fa; --accent: #0b5cad; --bad: #a40e26; --warn: #7d4e00; --good: #116329; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
        header.top { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; padding: .5rem 1.25rem; background: #24292f; color: #fff; }
        header.top a { color: #fff; }
        .brand { font-weight: 700; text-decoration: none; }
        nav ul { display: flex; flex-wrap: wrap; gap: .9rem; list-style: none; margin: 0; padding: 0; }
        nav a[aria-current=page] { text-decoration: underline; text-underline-offset: 4px; font-weight: 700; }
        .sign-out { margin-left: auto; display: flex; gap: .5rem; align-items: center; }
        main { padding: 1rem 1.25rem 3rem; max-width: 1400px; }
        h1 { margin: .25rem 0 .75rem; font-size: 1.5rem; }
        h2 { font-size: 1.1rem; margin: 1.25rem 0 .5rem; }
        a { color: var(--accent); }
        a[aria-current=true] { font-weight: 700; }
        .windows a { margin-right: .5rem; }
        .muted { color: var(--muted); }
        .warning { color: var(--bad); font-weight: 600; }
        .notice { color: var(--good); font-weight: 600; }
        .health { border-left: 6px solid var(--good); padding: .25rem 1rem; background: var(--panel); }
        .health-degraded { border-color: var(--warn); }
        .health-unhealthy { border-color: var(--bad); }
        .empty { border: 2px dashed var(--line); padding: .5rem 1rem; margin: 1rem 0; }
        .tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: .75rem; margin: 1rem 0; }
        .tile { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .5rem .9rem; }
        .tile h2 { margin: 0; font-size: .9rem; color: var(--muted); font-weight: 600; }
        .tile .value { font-size: 1.6rem; margin: .1rem 0; font-variant-numeric: tabular-nums; }
        .tile .unit { font-size: 1rem; color: var(--muted); }
        .tile .change { margin: 0; font-size: .85rem; color: var(--muted); }
        .tile .change.worse { color: var(--bad); }
        .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 1rem; }
        figure.chart { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: .5rem; }
        figcaption { font-weight: 600; margin-bottom: .25rem; }
        svg { width: 100%; height: auto; }
        svg .grid { stroke: #eaeef2; }
        svg .axis-line { stroke: var(--muted); }
        svg text.axis { font-size: 11px; fill: var(--muted); }
        svg .series polyline { fill: none; stroke-width: 2; }
        svg .s1 polyline, svg .s1 circle { stroke: #0b5cad; fill: #0b5cad; }
        svg .s1 polyline { fill: none; }
        svg .s2 polyline, svg .s2 circle { stroke: #bc4c00; fill: #bc4c00; }
        svg .s2 polyline { fill: none; }
        svg circle.point:hover { r: 6; }
        svg.spark { width: 110px; height: 24px; }
        svg.spark polyline { fill: none; stroke: #0b5cad; stroke-width: 1.5; }
        .legend { display: flex; gap: 1rem; list-style: none; padding: 0; margin: .25rem 0 0; font-size: .85rem; }
        .legend li::before { content: ""; display: inline-block; width: 12px; height: 3px; margin-right: 4px; vertical-align: middle; background: #0b5cad; }
        .legend li.s2::before { background: #bc4c00; }
        table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .9rem; }
        th, td { border-bottom: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
        th { background: var(--panel); }
        .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        code, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .85rem; }
        pre { background: var(--panel); padding: .5rem; overflow-x: auto; white-space: pre-wrap; }
        article.statement, article.advice { border: 1px solid var(--line); border-radius: 6px; padding: .25rem 1rem; margin: .75rem 0; }
        dl.proof, dl.thresholds { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
        dt { color: var(--muted); }
        dd { margin: 0; }
        form.action, form.sign-in { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .5rem 0; }
        form.action p { flex-basis: 100%; margin: 0; }
        button { font: inherit; padding: .35rem .9rem; border-radius: 6px; border: 1px solid #1f6feb; background: #0b5cad; color: #fff; cursor: pointer; }
        .sign-out button { background: transparent; border-color: #fff; }
        input[type=password] { font: inherit; padding: .3rem .5rem; min-width: 22rem; border: 1px solid var(--muted); border-radius: 6px; }
        .status-succeeded { color: var(--good); font-weight: 700; }
        .status-failed { color: var(--bad); font-weight: 700; }
        """;
}
