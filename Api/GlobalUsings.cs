global using System.Security.Claims;
global using Dovecote.Grains.Interfaces.Channels;
global using Dovecote.Grains.Interfaces.Tenants;
global using Microsoft.Extensions.Options;
global using Orleans;
