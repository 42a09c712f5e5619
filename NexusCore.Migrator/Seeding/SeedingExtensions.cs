using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace NexusCore.Migrator.Seeding;

public static class SeedingExtensions
{
    /// <summary>Registers the seeder and its options; options given on the command line win over configuration.</summary>
    public static IHostApplicationBuilder AddSeeding(this IHostApplicationBuilder builder, MigratorCommand.Seed command)
    {
        builder.Configuration.AddInMemoryCollection(command.AsConfiguration());
        builder.Services.AddOptions<SeedOptions>()
            .BindConfiguration(SeedOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ClientSeeder>();
        return builder;
    }
}
