namespace ShiftBench;

/// <summary>
/// Progress of one long task, reported by Core and drawn by the CLI (a live bar on a terminal,
/// plain periodic lines in CI). Done and Total are in Unit ("images", "bytes"); Total 0 = unknown.
/// </summary>
public readonly record struct ProgressUpdate(string Task, long Done, long Total, string Unit);
