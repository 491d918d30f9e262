namespace SharpLM.Cli.Progress;

/// <summary>Whether output goes to a terminal that can show live, redrawn lines.</summary>
internal static class Terminal
{
    /// <summary>
    /// Only the process's own terminal, and not a TERM=dumb one: a writer passed in by a test never is, and MPI
    /// launchers give each rank's output a pseudo-terminal that they forward as plain lines (SharpLM sets TERM=dumb
    /// for the ranks of a job).
    /// </summary>
    public static bool IsInteractive(TextWriter output) =>
        ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("TERM") != "dumb";
}
