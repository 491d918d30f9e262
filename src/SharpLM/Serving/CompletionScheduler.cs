using System.Threading.Channels;
using SharpLM.Generation;
using SharpLM.Model;
using SharpLM.Precision;
using static TorchSharp.torch;

namespace SharpLM.Serving;

/// <summary>What a completion produced since the last event; the last event of a choice carries its finish.</summary>
public readonly record struct CompletionEvent(int Choice, string Text, FinishReason? Finish, int CompletionTokens);

/// <summary>
/// Continuous batching: one thread owns the model and, at every step, decodes one token for each of up to
/// maxBatch running completions together (<see cref="BatchDecoder"/>), whichever requests they belong to; a new
/// completion joins at the next step with its prefill, a finished or cancelled one leaves. Completions start in
/// arrival order, so requests are served fairly. Results flow to each request through its own channel.
/// </summary>
public sealed class CompletionScheduler : IDisposable
{
    readonly TransformerLM model;
    readonly PrecisionSetting precision;
    readonly int maxBatch;
    readonly object gate = new();
    int largestBatch;
    readonly Queue<Entry> waiting = new();
    readonly List<Entry> running = [];
    readonly Thread thread;
    bool stopping;

    /// <summary>Starts the decoding thread; from here the process keeps freed native memory (<see cref="Memory.NativeHeap"/>).</summary>
    /// <param name="precision">fp32 or bf16 (resolved), the forward passes' precision.</param>
    /// <param name="maxBatch">Most completions decoded in one step.</param>
    public CompletionScheduler(TransformerLM model, PrecisionSetting precision, int maxBatch)
    {
        this.model = model ?? throw new ArgumentNullException(nameof(model));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatch);
        this.precision = precision;
        this.maxBatch = maxBatch;
        // Every completion's cache is fresh storage (8 MB at the TinyStories shape with a 512-token window). In memory
        // the kernel maps anew, a prefill paid a page fault per 4 KiB: a 64-token prompt's took 51 ms against 28 ms
        // with freed memory retained, so that a finished completion's storage serves the next one.
        Memory.NativeHeap.RetainFreedMemory();
        model.eval();
        thread = new Thread(Loop) { IsBackground = true, Name = "sharplm-decode" };
        thread.Start();
    }

    /// <summary>Completions decoding now.</summary>
    public int Running
    {
        get
        {
            lock (gate)
            {
                return running.Count;
            }
        }
    }

    /// <summary>The most completions one decode step has served since the start (GET /health shows it).</summary>
    public int LargestBatch
    {
        get
        {
            lock (gate)
            {
                return largestBatch;
            }
        }
    }

    /// <summary>Completions waiting for a place in the batch.</summary>
    public int Waiting
    {
        get
        {
            lock (gate)
            {
                return waiting.Count;
            }
        }
    }

    /// <summary>
    /// Queues the completions (choice i is <paramref name="completions"/>[i]; the scheduler owns and disposes them).
    /// The channel completes when all have finished, or soon after <paramref name="cancellation"/> fires (a client
    /// that went away), which drops them.
    /// </summary>
    /// <exception cref="InvalidOperationException">The scheduler is shutting down.</exception>
    public ChannelReader<CompletionEvent> Submit(IReadOnlyList<Completion> completions, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(completions);
        var job = new Job(Channel.CreateUnbounded<CompletionEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true }), completions.Count, cancellation);
        lock (gate)
        {
            if (stopping)
            {
                foreach (var completion in completions)
                {
                    completion.Dispose();
                }
                throw new InvalidOperationException("the server is shutting down.");
            }
            for (int choice = 0; choice < completions.Count; choice++)
            {
                var entry = new Entry(completions[choice], choice, job);
                if (entry.Completion.Finish is { } finish)
                {
                    // max_tokens 0: nothing to decode.
                    job.Channel.Writer.TryWrite(new CompletionEvent(choice, "", finish, 0));
                    Retire(entry);
                }
                else
                {
                    waiting.Enqueue(entry);
                }
            }
            if (completions.Count == 0)
            {
                job.Channel.Writer.TryComplete();
            }
            Monitor.PulseAll(gate);
        }
        return job.Channel.Reader;
    }

    void Loop()
    {
        using var noGrad = no_grad();
        using var autocast = Autocast.Enter(precision);
        using var weights = new DecodingWeights(model);
        while (true)
        {
            Entry[] batch;
            lock (gate)
            {
                while (waiting.Count == 0 && running.Count == 0)
                {
                    if (stopping)
                    {
                        return;
                    }
                    Monitor.Wait(gate);
                }
                while (running.Count < maxBatch && waiting.TryDequeue(out var entry))
                {
                    running.Add(entry);
                }
                foreach (var cancelled in running.Where(entry => entry.Job.Cancellation.IsCancellationRequested).ToArray())
                {
                    running.Remove(cancelled);
                    Retire(cancelled);
                }
                batch = [.. running];
                largestBatch = Math.Max(largestBatch, batch.Length);
            }
            if (batch.Length > 0)
            {
                Step(batch, weights);
            }
        }
    }

    void Step(Entry[] batch, DecodingWeights weights)
    {
        using var scope = NewDisposeScope();
        try
        {
            var logits = BatchDecoder.NextLogits(model, [.. batch.Select(entry => entry.Completion.Sequence)], weights); // (batch, vocab)
            for (int row = 0; row < batch.Length; row++)
            {
                var entry = batch[row];
                string piece = entry.Completion.Accept(logits[row]);
                if (entry.Completion.Finish is not null)
                {
                    lock (gate)
                    {
                        running.Remove(entry);
                    }
                    entry.Job.Channel.Writer.TryWrite(new CompletionEvent(entry.Choice, piece, entry.Completion.Finish, entry.Completion.TokenIds.Count));
                    Retire(entry);
                }
                else if (piece.Length > 0)
                {
                    entry.Job.Channel.Writer.TryWrite(new CompletionEvent(entry.Choice, piece, null, entry.Completion.TokenIds.Count));
                }
            }
        }
        catch (Exception exception)
        {
            // Nothing a request does may end the loop: the batch's requests fail, the others carry on.
            lock (gate)
            {
                foreach (var entry in batch)
                {
                    running.Remove(entry);
                    entry.Job.Channel.Writer.TryComplete(exception);
                    Retire(entry);
                }
            }
        }
    }

    /// <summary>Disposes a completion that left the batch; the last of a job completes its channel.</summary>
    static void Retire(Entry entry)
    {
        entry.Completion.Dispose();
        if (Interlocked.Decrement(ref entry.Job.Remaining) == 0)
        {
            entry.Job.Channel.Writer.TryComplete();
        }
    }

    /// <summary>Refuses new work, finishes every queued and running completion, then ends the decoding thread.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            stopping = true;
            Monitor.PulseAll(gate);
        }
        thread.Join();
    }

    sealed class Job(Channel<CompletionEvent> channel, int count, CancellationToken cancellation)
    {
        public Channel<CompletionEvent> Channel { get; } = channel;

        public CancellationToken Cancellation { get; } = cancellation;

        public int Remaining = count;
    }

    sealed record Entry(Completion Completion, int Choice, Job Job);
}
