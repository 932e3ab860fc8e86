namespace ShiftBench;

/// <summary>
/// A problem with the user's input (option, file, config field) that the CLI reports as one line and a
/// non-zero exit code. The message names what is wrong and what would fix it.
/// </summary>
public class ShiftBenchException(string message, Exception? inner = null) : Exception(message, inner);
