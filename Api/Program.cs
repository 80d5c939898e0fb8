using Dovecote.Api;

await DovecoteApi.Create(args).RunAsync();
