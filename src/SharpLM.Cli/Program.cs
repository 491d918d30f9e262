using SharpLM.Distributed;

namespace SharpLM.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        if (LaunchedWorld.FromEnvironment() is not null)
        {
            // MPI launchers give each rank's output a pseudo-terminal and forward it as plain lines: no escape
            // codes, not even the keypad mode .NET sets up when the console is first touched (hence before it).
            Environment.SetEnvironmentVariable("TERM", "dumb");
        }
        return CliApp.Run(args, Console.Out, Console.Error);
    }
}
