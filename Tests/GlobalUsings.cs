global using Orleans;
global using Orleans.Hosting;
global using Dovecote.Tests.Support;
