using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace NexusCore.ServiceDefaults;

/// <summary>
/// Options a service needs while it registers its services, not only once it runs: the sizes and timeouts of
/// Npgsql pools, which Aspire's data source callbacks apply without a service provider. Bound once, here, checked
/// against the type's <see cref="RangeAttribute"/>s (a start that fails names the setting as the seed named it)
/// and registered as the <see cref="IOptions{T}"/> every other reader gets.
/// </summary>
public static class StartupOptions
{
    public static T BindAtStart<T>(this IHostApplicationBuilder builder, string section)
        where T : class, new()
    {
        var options = new T();
        foreach (var property in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var key = $"{section}:{property.Name}";
            if (builder.Configuration[key] is not { } text)
            {
                continue;
            }

            var range = property.GetCustomAttribute<RangeAttribute>();
            object? value;
            try
            {
                value = TypeDescriptor.GetConverter(property.PropertyType).ConvertFromInvariantString(text.Trim());
            }
            catch (Exception ex) when (ex is FormatException or NotSupportedException or ArgumentException)
            {
                value = null;
            }

            if (value is null || (range is not null && !range.IsValid(value)))
            {
                throw new InvalidOperationException(
                    $"{SeedSettings.NameOf(key)} must be {Expected(property.PropertyType, range)}; it is '{text}' ({key}).");
            }

            property.SetValue(options, value);
        }

        builder.Services.AddSingleton(Options.Create(options));
        return options;
    }

    private static string Expected(Type type, RangeAttribute? range)
    {
        var what = type == typeof(int) || type == typeof(long) ? "a whole number" : type == typeof(bool) ? "true or false" : "a number";
        return range is null ? what : string.Create(CultureInfo.InvariantCulture, $"{what} from {range.Minimum} to {range.Maximum}");
    }
}
