global using Dovecote.Grains.Interfaces.Channels;
global using Dovecote.Grains.Interfaces.Tenants;
global using Microsoft.Extensions.Logging;
global using Microsoft.Extensions.Options;
global using Orleans;
global using Orleans.Concurrency;
global using Orleans.Runtime;
