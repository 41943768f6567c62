# %% [markdown]
# # export_serve

# %%
print(1 + 1)
