global using Dovecote.Tests.Support;
global using Orleans;
global using Orleans.Hosting;
