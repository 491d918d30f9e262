using SharpLM.Numerics;
using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>
/// The keys and values that one sequence's earlier positions left in every attention layer, so that decoding a
/// new token attends over them instead of recomputing them: one prefill pass over the prompt, then one position
/// per token. Positions are those of the model's window, 0 … contextLength−1; a sequence that outgrows the window
/// starts again with <see cref="Clear"/> and a prefill of its last window (see <see cref="Generation.DecodingSequence"/>).
/// </summary>
public sealed class KeyValueCache : IDisposable
{
    readonly LayerKeyValues[] layers;

    public KeyValueCache(TransformerConfig config)
        : this((config ?? throw new ArgumentNullException(nameof(config))).ContextLength, config.NumLayers)
    {
    }

    KeyValueCache(int capacity, int layerCount)
    {
        Capacity = capacity;
        layers = [.. Enumerable.Range(0, layerCount).Select(_ => new LayerKeyValues(capacity))];
    }

    /// <summary>The most positions the cache holds: the model's context length.</summary>
    public int Capacity { get; }

    /// <summary>Positions cached so far; the next token goes to this position.</summary>
    public int Length => layers[0].Length;

    public LayerKeyValues this[int layer] => layers[layer];

    internal int LayerCount => layers.Length;

    /// <summary>Forgets every position (storage is kept for the next prefill).</summary>
    public void Clear()
    {
        foreach (var layer in layers)
        {
            layer.Clear();
        }
    }

    /// <summary>Replaces every position with a copy of <paramref name="source"/>'s, e.g. a prefill another sequence shares.</summary>
    /// <exception cref="ArgumentException">The caches are of different shapes.</exception>
    public void CopyFrom(KeyValueCache source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Capacity != Capacity || source.layers.Length != layers.Length)
        {
            throw new ArgumentException($"a cache of {source.layers.Length} layers × {source.Capacity} positions cannot fill one of {layers.Length} × {Capacity}.", nameof(source));
        }
        for (int i = 0; i < layers.Length; i++)
        {
            source.layers[i].CopyTo(layers[i]);
        }
    }

    /// <summary>An independent copy, e.g. for several samples continuing one prefilled prompt.</summary>
    public KeyValueCache Clone()
    {
        var copy = new KeyValueCache(Capacity, layers.Length);
        copy.CopyFrom(this);
        return copy;
    }

    public void Dispose()
    {
        foreach (var layer in layers)
        {
            layer.Dispose();
        }
    }
}

/// <summary>One attention layer's cached (heads, positions, dHead) keys and values of one sequence.</summary>
public sealed class LayerKeyValues : IDisposable
{
    readonly int capacity;
    Tensor? keys; // (heads, capacity, dHead)
    Tensor? values; // (heads, capacity, dHead)

    internal LayerKeyValues(int capacity) => this.capacity = capacity;

    public int Length { get; private set; }

    internal int Capacity => capacity;

    /// <summary>
    /// Addresses of the float32 CPU key and value storage, for <see cref="CpuDecodeStep"/>; 0 before the first
    /// <see cref="Append"/> or when the storage is of another dtype or device.
    /// </summary>
    internal nint KeyAddress { get; private set; }

    internal nint ValueAddress { get; private set; }

    /// <summary>
    /// Stores the (heads, seq, dHead) keys and values of the next seq positions and returns views of every cached
    /// position's, (heads, Length, dHead). Storage takes the dtype of the first keys: bf16 under bf16 autocast.
    /// </summary>
    /// <exception cref="InvalidOperationException">The positions would exceed the capacity (the context length).</exception>
    public (Tensor Keys, Tensor Values) Append(Tensor key, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        long count = key.shape[^2];
        if (Length + count > capacity)
        {
            throw new InvalidOperationException(
                $"{Length} cached positions plus {count} new ones exceed the cache's {capacity}; clear it and prefill the last window.");
        }
        if (keys is null || values is null || keys.dtype != key.dtype || keys.device_type != key.device_type || keys.device_index != key.device_index)
        {
            if (Length > 0)
            {
                throw new InvalidOperationException($"keys of dtype {key.dtype} cannot join a cache of {keys?.dtype}.");
            }
            Release();
            keys = zeros([key.shape[0], capacity, key.shape[^1]], key.dtype, key.device).DetachFromDisposeScope();
            values = zeros([value.shape[0], capacity, value.shape[^1]], value.dtype, value.device).DetachFromDisposeScope();
            TrackAddresses();
        }
        keys.narrow(1, Length, count).copy_(key);
        values.narrow(1, Length, count).copy_(value);
        Length += (int)count;
        return (keys.narrow(1, 0, Length), values.narrow(1, 0, Length));
    }

    internal void Clear() => Length = 0;

    /// <summary>
    /// Makes float32 CPU storage for (heads, capacity, dHead) keys and values if there is none yet, for
    /// <see cref="CpuDecodeStep"/>; returns whether the storage is float32 on the CPU (false for a bf16 cache).
    /// </summary>
    internal bool ReserveCpu(long heads, long dHead)
    {
        if (keys is null || values is null)
        {
            Release();
            keys = zeros([heads, capacity, dHead], ScalarType.Float32).DetachFromDisposeScope();
            values = zeros([heads, capacity, dHead], ScalarType.Float32).DetachFromDisposeScope();
            TrackAddresses();
        }
        return KeyAddress != 0;
    }

    /// <summary>Counts one more position, whose key and value <see cref="CpuDecodeStep"/> wrote at the addresses.</summary>
    internal void Advance()
    {
        if (Length >= capacity)
        {
            throw new InvalidOperationException($"the cache's {capacity} positions are full; clear it and prefill the last window.");
        }
        Length++;
    }

    void TrackAddresses()
    {
        bool raw = keys is not null && values is not null
            && RawMemory.IsContiguousCpu(keys, ScalarType.Float32) && RawMemory.IsContiguousCpu(values, ScalarType.Float32);
        KeyAddress = raw ? RawMemory.Address(keys!) : 0;
        ValueAddress = raw ? RawMemory.Address(values!) : 0;
    }

    internal void CopyTo(LayerKeyValues target)
    {
        target.Release();
        target.keys = keys?.clone().DetachFromDisposeScope();
        target.values = values?.clone().DetachFromDisposeScope();
        target.Length = Length;
        target.TrackAddresses();
    }

    void Release()
    {
        keys?.Dispose();
        values?.Dispose();
        keys = null;
        values = null;
        TrackAddresses();
    }

    public void Dispose() => Release();
}
