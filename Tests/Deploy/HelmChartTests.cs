using System.Text;

namespace Dovecote.Tests.Deploy;

/// <summary>
/// The chart in deploy/k8s/dovecote rendered and validated by helm-check: every values file of its ci/ folder passes,
/// broken values fail for the reason they were broken, and the rendered manifests keep the operational promises.
/// </summary>
public sealed class HelmChartTests
{
    private static string CiValues(string file) => Path.Combine(HelmCheck.Chart, "ci", file);

    private static string BrokenValues(string file) => Path.Combine(HelmCheck.RepositoryRoot, "Tests", "Deploy", "broken-values", file);

    public static TheoryData<string> CiFiles() =>
        [.. Directory.GetFiles(Path.Combine(HelmCheck.Chart, "ci"), "*.yaml").Select(f => Path.GetFileName(f)).Order()];

    /// <summary>Each broken file and the INVALID reason (or template failure) it must be refused with.</summary>
    public static readonly Dictionary<string, string> Broken = new()
    {
        ["unknown-key-values.yaml"] = "INVALID values/silo: must NOT have additional properties (replicas)",
        ["missing-public-url-values.yaml"] = "INVALID values/publicUrl: must match pattern",
        ["unknown-store-values.yaml"] = "INVALID values/store/type: must be equal to one of the allowed values",
        ["secret-in-config-values.yaml"] = "INVALID values/config: property name must be valid",
        ["short-grace-values.yaml"] = "silo.terminationGracePeriodSeconds must be longer than silo.shutdownTimeoutSeconds",
    };

    public static TheoryData<string> BrokenFiles() => [.. Broken.Keys.Order()];

    [Fact]
    public void The_ci_folder_covers_every_case_the_issue_names()
    {
        Assert.Equal(
            ["azure-values.yaml", "default-values.yaml", "existing-secret-values.yaml", "hpa-values.yaml", "ingress-tls-values.yaml",
             "networkpolicy-off-values.yaml", "networkpolicy-on-values.yaml", "redis-values.yaml"],
            CiFiles().Select(row => row.Data));
        Assert.Equal(Broken.Keys.Order(), Directory.GetFiles(BrokenValues("")).Select(Path.GetFileName).Order());
    }

    [Theory]
    [MemberData(nameof(CiFiles))]
    public async Task Ci_values_render_and_validate(string file)
    {
        var result = await HelmCheck.RunAsync(CiValues(file));
        Assert.True(result.ExitCode == 0, $"helm-check failed ({result.ExitCode}) for ci/{file}:\n{result.Output}");
        Assert.Matches(@"\b[1-9][0-9]* valid, 0 invalid", result.Output);
        Assert.DoesNotContain("INVALID", result.Output);
    }

    [Theory]
    [MemberData(nameof(BrokenFiles))]
    public async Task Broken_values_are_refused_with_the_reason(string file)
    {
        var result = await HelmCheck.RunAsync(BrokenValues(file));
        Assert.True(result.ExitCode != 0, $"helm-check accepted broken values {file}:\n{result.Output}");
        Assert.Contains(Broken[file], result.Output);
    }

    [Fact]
    public async Task Defaults_keep_secrets_out_of_the_config_map_and_give_silos_time_to_hand_over()
    {
        var chart = await RenderAsync(CiValues("default-values.yaml"));

        var config = chart.Single("ConfigMap")["data"]!.AsObject();
        Assert.Equal("00:02:00", (string?)config["DOVECOTE_SHUTDOWN_TIMEOUT"]);
        var secret = chart.Single("Secret")["data"]!.AsObject();
        foreach (var key in new[] { "DOVECOTE_SECRETS_KEY", "DOVECOTE_OAUTH_SIGNING_KEY", "DOVECOTE_OAUTH_ENCRYPTION_KEY", "COOKIE_ENCRYPTION_KEY",
                     "DOVECOTE_AZURE_STORAGE" })
        {
            Assert.True(secret.ContainsKey(key), key);
            Assert.False(config.ContainsKey(key), key);
        }

        var silo = chart.Single("Deployment", "-silo");
        var spec = silo["spec"]!;
        Assert.Equal("3", (string?)spec["replicas"]);
        Assert.Equal("0", (string?)spec["strategy"]!["rollingUpdate"]!["maxUnavailable"]);
        Assert.Equal("1", (string?)spec["strategy"]!["rollingUpdate"]!["maxSurge"]);
        Assert.NotNull(spec["minReadySeconds"]);
        Assert.True(int.Parse((string)spec["template"]!["spec"]!["terminationGracePeriodSeconds"]!) > 120);
        Assert.Equal("silo", (string?)silo["metadata"]!["labels"]!["component"]);
        Assert.NotNull(spec["template"]!["spec"]!["topologySpreadConstraints"]);

        foreach (var (deployment, container) in new[] { ("-silo", "silo"), ("-api", "api") })
        {
            var pod = chart.Single("Deployment", deployment)["spec"]!["template"]!["spec"]!;
            Assert.Equal("false", (string?)pod["automountServiceAccountToken"]);
            Assert.Equal("true", (string?)pod["securityContext"]!["runAsNonRoot"]);
            Assert.Equal("RuntimeDefault", (string?)pod["securityContext"]!["seccompProfile"]!["type"]);
            var c = chart.Container(deployment, container);
            Assert.Equal("true", (string?)c["securityContext"]!["readOnlyRootFilesystem"]);
            Assert.Equal("false", (string?)c["securityContext"]!["allowPrivilegeEscalation"]);
            Assert.Equal("ALL", (string?)c["securityContext"]!["capabilities"]!["drop"]![0]);
            Assert.Equal("/tmp", (string?)Assert.Single(c["volumeMounts"]!.AsArray())!["mountPath"]);
            Assert.NotNull(c["resources"]!["requests"]!["cpu"]);
            Assert.NotNull(c["resources"]!["limits"]!["memory"]);
            Assert.Null(c["resources"]!["limits"]!["cpu"]); // a CPU limit throttles the silo's scheduler and its probes
            Assert.NotNull(c["readinessProbe"]);
            Assert.NotNull(c["livenessProbe"]);
            Assert.NotNull(c["startupProbe"]);
        }
        Assert.Equal("/health/ready", (string?)chart.Container("-silo", "silo")["readinessProbe"]!["httpGet"]!["path"]);
        Assert.Equal("/health/startup", (string?)chart.Container("-silo", "silo")["startupProbe"]!["httpGet"]!["path"]);
        Assert.Equal("/health/live", (string?)chart.Container("-silo", "silo")["livenessProbe"]!["httpGet"]!["path"]);
        Assert.Equal("/health/ready", (string?)chart.Container("-api", "api")["readinessProbe"]!["httpGet"]!["path"]);
        Assert.Equal("false", (string?)chart.Single("ServiceAccount")["automountServiceAccountToken"]);
        Assert.Equal(2, chart.OfKind("PodDisruptionBudget").Count());
        var test = chart.Single("Pod", "-test-ready");
        Assert.Equal("test", (string?)test["metadata"]!["annotations"]!["helm.sh/hook"]);
        Assert.Equal("http://release-dovecote-api:80/health/ready", (string?)test["spec"]!["containers"]![0]!["args"]!.AsArray()[^1]);
        Assert.Empty(chart.OfKind("HorizontalPodAutoscaler"));
        Assert.Empty(chart.OfKind("Ingress"));
        Assert.Empty(chart.OfKind("NetworkPolicy"));
    }

    [Fact]
    public async Task An_existing_secret_replaces_the_rendered_one()
    {
        var chart = await RenderAsync(CiValues("existing-secret-values.yaml"));
        Assert.Empty(chart.OfKind("Secret"));
        var references = chart.OfKind("Deployment")
            .SelectMany(d => d["spec"]!["template"]!["spec"]!["containers"]!.AsArray())
            .SelectMany(c => c!["env"]!.AsArray())
            .Select(e => e!["valueFrom"]?["secretKeyRef"]?["name"]).OfType<System.Text.Json.Nodes.JsonNode>().Select(n => (string?)n).Distinct();
        Assert.Equal(["dovecote-keys"], references);
        Assert.Contains("DOVECOTE_REDIS", SecretKeys(chart, "-silo", "silo"));
        Assert.Contains("DOVECOTE_OAUTH_SIGNING_KEY", SecretKeys(chart, "-api", "api"));
    }

    [Fact]
    public async Task Optional_parts_render_when_enabled()
    {
        var ingress = (await RenderAsync(CiValues("ingress-tls-values.yaml"))).Single("Ingress");
        Assert.Equal("nginx", (string?)ingress["spec"]!["ingressClassName"]);
        Assert.Equal("mcp.example.com", (string?)ingress["spec"]!["tls"]![0]!["hosts"]![0]);
        Assert.Equal("mcp-example-com-tls", (string?)ingress["spec"]!["tls"]![0]!["secretName"]);

        var hpa = await RenderAsync(CiValues("hpa-values.yaml"));
        Assert.Equal("autoscaling/v2", (string?)hpa.Single("HorizontalPodAutoscaler")["apiVersion"]);
        Assert.Null(hpa.Single("Deployment", "-api")["spec"]!["replicas"]); // the HPA owns the count

        var policies = (await RenderAsync(CiValues("networkpolicy-on-values.yaml"))).OfKind("NetworkPolicy").ToList();
        Assert.Equal(2, policies.Count);
        Assert.Empty((await RenderAsync(CiValues("networkpolicy-off-values.yaml"))).OfKind("NetworkPolicy"));
    }

    [Fact]
    public void Notes_give_the_connector_url()
    {
        var notes = File.ReadAllText(Path.Combine(HelmCheck.Chart, "templates", "NOTES.txt"), Encoding.UTF8);
        Assert.Contains("{{ .Values.publicUrl | trimSuffix \"/\" }}/mcp", notes);
    }

    private static IEnumerable<string> SecretKeys(RenderedChart chart, string deployment, string container) =>
        chart.Container(deployment, container)["env"]!.AsArray()
            .Where(e => e!["valueFrom"]?["secretKeyRef"] is not null).Select(e => (string)e!["name"]!);

    internal static async Task<RenderedChart> RenderAsync(params string[] valuesFiles)
    {
        var result = await HelmCheck.RunAsync(valuesFiles);
        Assert.True(result.ExitCode == 0, $"helm-check failed ({result.ExitCode}):\n{result.Output}");
        return RenderedChart.Parse(result.Rendered);
    }
}
