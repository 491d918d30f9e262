using SharpLM.Distributed;

namespace SharpLM.Cli.Training;

/// <summary>
/// Runs a verb as one rank of an MPI job: joins the job, lets rank 0 alone print, and turns an error on any rank
/// into the end of the whole job (MPI_Abort), since the other ranks would otherwise wait for it forever.
/// </summary>
internal static class MpiJob
{
    static readonly TimeSpan AbortGrace = TimeSpan.FromMilliseconds(500);

    public static int Run(LaunchedWorld world, TextWriter output, TextWriter error, Func<IProcessGroup, TextWriter, int> work)
    {
        MpiProcessGroup group;
        try
        {
            group = MpiProcessGroup.Start(world);
        }
        catch (DllNotFoundException missing)
        {
            error.WriteLine($"error: {missing.Message}");
            return ExitCodes.InputError;
        }
        using (group)
        {
            try
            {
                return work(group, group.Rank == 0 ? output : TextWriter.Null);
            }
            catch (Exception exception)
            {
                error.WriteLine($"error: rank {group.Rank} on {Environment.MachineName}: {CliApp.Describe(exception).ReplaceLineEndings(" ")}");
                error.Flush();
                int code = CliApp.IsUserError(exception) ? ExitCodes.InputError : ExitCodes.InternalError;
                // MPICH's launcher kills the job as soon as a rank aborts and can drop output still on its way (the
                // tests saw a job end with no output at all); a moment's grace lets it forward the error line.
                Thread.Sleep(AbortGrace);
                group.Abort(code);
                return code;
            }
        }
    }
}
