global using System.Security.Claims;
global using Dovecote.Grains.Interfaces.Channels;
global using Dovecote.Grains.Interfaces.Tenants;
global using Microsoft.Extensions.Options;
global using OpenIddict.Abstractions;
global using OpenIddict.Server;
global using Orleans;
