using SharpLM.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Tests.Data;

[Collection(ProcessMemoryCollection.Name)]
public sealed class BatchesTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("sharplm-batches-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    TokenDataset Dataset(IEnumerable<ushort> ids, int vocabularySize)
    {
        var array = ids.ToArray();
        string path = Path.Combine(directory, $"{Guid.NewGuid():N}.tokens");
        File.WriteAllBytes(path, System.Runtime.InteropServices.MemoryMarshal.AsBytes(array.AsSpan()).ToArray());
        return TokenDataset.OpenRaw(path, TokenFile.DTypeUInt16, array.Length, vocabularySize);
    }

    [Fact]
    public void GetBatch_OnHandoutDataset_SamplesEveryStartUniformly()
    {
        using var dataset = Dataset(Enumerable.Range(0, 100).Select(i => (ushort)i), 100);
        const int batchSize = 32, contextLength = 7, draws = 1000;
        using var generator = new Generator(42);
        var counts = new long[100];
        for (int draw = 0; draw < draws; draw++)
        {
            using var scope = NewDisposeScope();
            var (x, y) = Batches.GetBatch(dataset, batchSize, contextLength, CPU, generator);
            Assert.Equal([batchSize, contextLength], x.shape);
            Assert.Equal([batchSize, contextLength], y.shape);
            Assert.Equal(ScalarType.Int64, x.dtype);
            Assert.True(y.eq(x.Plus(1)).all().item<bool>(), "y must be x shifted by one");
            Assert.True(x[.., 1..].eq(x[.., ..^1].Plus(1)).all().item<bool>(), "x must be a contiguous window");
            foreach (long start in x[.., 0].data<long>())
            {
                counts[start]++;
            }
        }
        // Starts are uniform over [0, n − m) = 0..92: each seen, none beyond, each count within mean ± 5σ.
        const int possible = 100 - contextLength;
        double mean = (double)draws * batchSize / possible;
        double sigma = Math.Sqrt(draws * batchSize * (1.0 / possible) * (1 - 1.0 / possible));
        for (int start = 0; start < possible; start++)
        {
            Assert.InRange(counts[start], mean - 5 * sigma, mean + 5 * sigma);
        }
        Assert.All(counts[possible..], c => Assert.Equal(0, c));
    }

    [Fact]
    public void GetBatch_WithSameSeed_IsDeterministic()
    {
        using var dataset = Dataset(Enumerable.Range(0, 500).Select(i => (ushort)(i % 50)), 50);
        Tensor Draw()
        {
            using var generator = new Generator(9);
            return Batches.GetBatch(dataset, 4, 16, CPU, generator).Inputs;
        }
        TensorAssert.Equal(Draw(), Draw());
    }

    [Fact]
    public void Sequential_CoversEveryTargetOnceInOrder()
    {
        using var dataset = Dataset(Enumerable.Range(0, 103).Select(i => (ushort)i), 200);
        var targets = new List<long>();
        foreach (var (x, y) in Batches.Sequential(dataset, batchSize: 4, contextLength: 10, CPU))
        {
            Assert.True(y.eq(x.Plus(1)).all().item<bool>());
            targets.AddRange(y.flatten().data<long>());
        }
        // (103 − 1) / 10 = 10 whole windows: targets 1..100.
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), targets);
        Assert.Equal(3, Batches.SequentialBatchCount(dataset, 4, 10));
        Assert.Single(Batches.Sequential(dataset, 4, 10, CPU, maxBatches: 1));
    }

    [Fact]
    public void GetBatch_WithContextLongerThanData_ThrowsNamingBoth()
    {
        using var dataset = Dataset(Enumerable.Range(0, 8).Select(i => (ushort)i), 10);
        var exception = Assert.Throws<ArgumentException>(() => Batches.GetBatch(dataset, 2, 8, CPU, null));
        Assert.Contains("context length 8", exception.Message, StringComparison.Ordinal);
        Assert.Contains("has 8", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenRaw_WithIdOutsideVocabulary_ReportsIdAndPosition()
    {
        var exception = Assert.Throws<InvalidDataException>(() => Dataset([1, 2, 3, 70, 4], 50));
        Assert.Contains("token id 70 at position 3", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:x")]
    [InlineData("")]
    public void DevicesParse_WithInvalidName_ThrowsClearError(string name)
    {
        var exception = Assert.Throws<ArgumentException>(() => Devices.Parse(name));
        Assert.Contains($"'{name}'", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DevicesParse_Cpu_IsCpu() => Assert.Equal(DeviceType.CPU, Devices.Parse("cpu").type);

    [Fact]
    public void GetBatch_OnHundredMillionTokenFile_DoesNotGrowPrivateMemory()
    {
        const long tokenCount = 100_000_000;
        string path = Path.Combine(directory, "large.tokens");
        using (var stream = new FileStream(path, FileMode.CreateNew))
        {
            var block = new ushort[1 << 20];
            for (int i = 0; i < block.Length; i++)
            {
                block[i] = (ushort)(i % 10_000);
            }
            var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(block.AsSpan());
            for (long written = 0; written < tokenCount; written += block.Length)
            {
                stream.Write(bytes[..(int)(Math.Min(block.Length, tokenCount - written) * 2)]);
            }
        }

        long before = ProcessMemory.AnonymousResidentBytes();
        using var dataset = TokenDataset.OpenRaw(path, TokenFile.DTypeUInt16, tokenCount, 10_000);
        using var generator = new Generator(1);
        for (int i = 0; i < 300; i++)
        {
            using var scope = NewDisposeScope();
            var (x, _) = Batches.GetBatch(dataset, 32, 256, CPU, generator);
            Assert.True(x.max().item<long>() < 10_000);
        }
        long growth = ProcessMemory.AnonymousResidentBytes() - before;
        // The file is 200 MB; its pages are file-backed and never copied into private memory.
        Assert.True(growth < 64L << 20, $"private memory grew by {growth >> 20} MB");
    }
}
