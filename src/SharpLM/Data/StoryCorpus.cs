using System.Text;

namespace SharpLM.Data;

/// <summary>
/// SharpLM's built-in corpus: short, simple English stories in the spirit of TinyStories, produced by a
/// deterministic grammar so the quickstart needs no download. A story keeps its hero's name, kind and
/// pronoun throughout and its events follow from each other, so a model that uses its context predicts
/// the text far better than one that only knows word frequencies.
/// </summary>
public static class StoryCorpus
{
    /// <summary>The separator written between stories, as in TinyStories.</summary>
    public const string EndOfText = "<|endoftext|>";

    sealed record Hero(string Name, string Pronoun, string Possessive, string Object);

    static readonly Hero[] Heroes =
    [
        new("Lily", "she", "her", "her"), new("Tom", "he", "his", "him"), new("Mia", "she", "her", "her"),
        new("Ben", "he", "his", "him"), new("Sue", "she", "her", "her"), new("Max", "he", "his", "him"),
        new("Anna", "she", "her", "her"), new("Sam", "he", "his", "him"), new("Lucy", "she", "her", "her"),
        new("Jack", "he", "his", "him"), new("Ella", "she", "her", "her"), new("Leo", "he", "his", "him"),
    ];

    static readonly string[] Kinds = ["girl", "boy", "cat", "dog", "bunny", "bird", "bear", "fox", "duck", "mouse"];
    static readonly string[] Traits = ["little", "happy", "curious", "brave", "shy", "kind", "silly", "small", "friendly", "busy"];
    static readonly string[] Homes = ["a small house", "a big forest", "a quiet village", "a sunny farm", "a tall tree", "a cozy den", "a busy town", "a green garden"];
    static readonly string[] Places = ["the park", "the river", "the hill", "the beach", "the garden", "the woods", "the pond", "the market"];
    static readonly string[] Colors = ["red", "blue", "yellow", "green", "shiny", "purple", "pink", "golden"];
    static readonly string[] Things = ["ball", "box", "kite", "hat", "cup", "stone", "key", "book", "drum", "shell"];
    static readonly string[] Friends = ["a wise owl", "a tiny frog", "an old turtle", "a funny monkey", "a gentle cow", "a fast rabbit", "a big dog", "a little bird"];
    static readonly string[] Weather = ["the sun was warm", "it was a windy day", "the sky was blue", "it started to rain", "the air was cold", "the flowers were pretty"];
    static readonly string[] Games = ["played tag", "built a fort", "sang a song", "ran in circles", "danced in the grass", "looked at the clouds"];
    static readonly string[] Foods = ["apples", "cookies", "bread", "cake", "carrots", "soup"];

    /// <summary>Generates <paramref name="storyCount"/> stories; the same seed always gives the same text.</summary>
    public static IEnumerable<string> Stories(int storyCount, int seed)
    {
        if (storyCount < 0)
        {
            throw new ArgumentException($"storyCount must be ≥ 0, got {storyCount}.", nameof(storyCount));
        }
        // System.Random with a seed uses a fixed legacy algorithm, so the corpus is stable across .NET versions.
        var random = new Random(seed);
        for (int i = 0; i < storyCount; i++)
        {
            yield return Story(random);
        }
    }

    /// <summary>Writes stories separated by <see cref="EndOfText"/> lines, atomically.</summary>
    public static void Write(string path, int storyCount, int seed)
    {
        IO.AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
            foreach (string story in Stories(storyCount, seed))
            {
                writer.Write(story);
                writer.Write('\n');
                writer.Write(EndOfText);
                writer.Write('\n');
            }
        });
    }

    static string Story(Random random)
    {
        T Pick<T>(T[] items) => items[random.Next(items.Length)];
        static string Capital(string s) => char.ToUpperInvariant(s[0]) + s[1..];

        var hero = Pick(Heroes);
        string kind = Pick(Kinds), trait = Pick(Traits), place = Pick(Places), color = Pick(Colors), thing = Pick(Things);
        string friend = Pick(Friends), food = Pick(Foods), game = Pick(Games);
        string he = hero.Pronoun, He = Capital(hero.Pronoun), his = hero.Possessive, him = hero.Object, name = hero.Name;
        var story = new StringBuilder();

        story.Append(random.Next(3) switch
        {
            0 => $"Once upon a time, there was a {trait} {kind} named {name}. ",
            1 => $"One day, a {trait} {kind} named {name} woke up early. ",
            _ => $"{name} was a {trait} {kind} who lived in {Pick(Homes)}. ",
        });
        story.Append($"{He} liked to go to {place} because {Pick(Weather)}. ");

        switch (random.Next(4))
        {
            case 0: // a lost thing is found with a friend's help
                story.Append($"{name} had a {color} {thing}. {He} loved {his} {thing} very much. ");
                story.Append($"But one day, {name} could not find the {thing}. {He} looked and looked, but it was gone. ");
                story.Append($"{name} felt sad and began to cry. Then {friend} came by and asked, \"Why are you sad, {name}?\" ");
                story.Append($"\"I lost my {color} {thing},\" said {name}. \"I will help you,\" said the friend. ");
                story.Append($"They looked under the trees and behind the rocks. At last, they found the {thing} near {place}. ");
                story.Append($"{name} was so happy. {He} hugged {his} new friend and said, \"Thank you!\" ");
                break;
            case 1: // sharing food
                story.Append($"{name} had a basket of {food}. On the way, {he} met {friend}. ");
                story.Append($"The friend was hungry and looked at the {food}. {name} wanted to keep all the {food}, but then {he} remembered what {his} mom said. ");
                story.Append($"\"Sharing is caring,\" {he} thought. So {name} gave some {food} to the friend. ");
                story.Append($"They sat together and ate the {food}. Then they {game}. ");
                story.Append($"{name} learned that sharing makes everyone happy. ");
                break;
            case 2: // a mistake and an apology
                story.Append($"At {place}, {name} saw a {color} {thing} that belonged to {friend}. ");
                story.Append($"{name} wanted to play with it, so {he} took the {thing} without asking. ");
                story.Append($"Oh no! The {thing} broke. The friend was very sad. {name} felt bad in {his} tummy. ");
                story.Append($"{He} went to the friend and said, \"I am sorry. I should have asked.\" ");
                story.Append($"The friend smiled and said, \"It is okay. We can fix it together.\" And they did. ");
                story.Append($"From that day on, {name} always asked first. ");
                break;
            default: // a small adventure and the way home
                story.Append($"{name} saw a {color} butterfly and followed it far away from home. ");
                story.Append($"Soon {name} did not know where {he} was. {He} was scared. ");
                story.Append($"Then {friend} saw {him} and said, \"Do not be afraid. I know the way.\" ");
                story.Append($"The friend took {name} back to {place}, and from there {name} could see {his} home. ");
                story.Append($"{His(he)} mom gave {him} a big hug and some warm {food}. ");
                story.Append($"{name} was happy to be home, and {he} promised to stay close next time. ");
                break;
        }
        story.Append(random.Next(3) switch
        {
            0 => $"The end.",
            1 => $"That night, {name} went to sleep with a big smile.",
            _ => $"{name} and {his} friend played together every day after that.",
        });
        return story.ToString();

        static string His(string pronoun) => pronoun == "she" ? "Her" : "His";
    }
}
